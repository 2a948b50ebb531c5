"""dbcheck: a static analyzer for Python database code."""

__version__ = "0.1.0"
