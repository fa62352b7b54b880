"""One recipe, one study: recipes, problems, trials, sampling, the shared budget, search.

Internal: the public API is re-exported from :mod:`automl_fin`.
"""
