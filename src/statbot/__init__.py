"""statbot: statistics and machine learning on your own data, through a guided chat."""

__version__ = "0.1.0"
__all__ = ["__version__"]
