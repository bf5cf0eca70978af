"""Built-in ucsiem parser plugins (installed as `ucsiem_parsers`); one folder per log source."""
