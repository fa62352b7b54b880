"""The plugin contract: hook specifications, specs, parameter spaces, discovery.

Internal: the public API is re-exported from :mod:`automl_fin`.
"""
