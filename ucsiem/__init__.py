"""ucsiem: a security log agent for Unified Communications."""

import os

__version__ = "0.1.0"

if os.environ.get("UCSIEM_PURE_PYTHON") == "1":
    # Run the Python source of the modules compiled at install (setup.py), not their extension modules: for
    # a traceback with source lines, or to tell a compiled module's fault from the source's. Set before
    # anything of ucsiem is imported (the agent's workers inherit it).
    from ucsiem import purepython

    purepython.prefer_source()
