"""hpstudio: a desktop studio for hyperparameter tuning of scikit-learn models."""

__version__ = "0.1.0"
