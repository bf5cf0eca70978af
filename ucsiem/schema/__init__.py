"""The common event schema (see `event.py`) and the `event.action` vocabulary (see `actions.py`).

Nothing is imported here: a parse worker reads `actions` and the generated `compiled` schema only, and
builds the pydantic models (`event`) when an event needs them (see `fast.py`)."""
