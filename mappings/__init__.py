"""Generated schema artifacts (installed as `ucsiem_mappings`); see README.md."""
