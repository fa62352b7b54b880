"""What a search leaves: leaderboard, ensemble, final test, predictors, report.

Internal: the public API is re-exported from :mod:`automl_fin`.
"""
