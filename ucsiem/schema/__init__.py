"""The common event schema (see `event.py`) and the `event.action` vocabulary (see `actions.py`)."""

from ucsiem.schema.actions import ACTIONS, EventAction
from ucsiem.schema.event import UCEvent, field_paths

__all__ = ["ACTIONS", "EventAction", "UCEvent", "field_paths"]
