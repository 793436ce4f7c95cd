"""The version of yloft (the wheel's: pyproject.toml reads it from here)."""

__version__ = "0.1.0"
