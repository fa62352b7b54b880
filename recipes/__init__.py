"""Built-in recipes, installed as the package-data folder ``automl_fin._recipes``."""
