"""ModelPlaza: a self-hosted model plaza for sharing, training, evaluating and serving models."""

__version__ = "0.1.0"
