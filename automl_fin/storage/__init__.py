"""Optuna's storage opened safely, and run folders inside --runs-dir.

Internal: the public API is re-exported from :mod:`automl_fin`.
"""
