"""ucsiem: a security log agent for Unified Communications."""

__version__ = "0.1.0"
