"""From a file or frame to a Dataset: reading, tidying, table facts, series, folds, metrics.

Internal: the public API is re-exported from :mod:`automl_fin`.
"""
