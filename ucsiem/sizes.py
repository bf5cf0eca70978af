"""Byte counts in the configuration: a plain integer, or a number with a unit.

One rule for every `*_bytes` key: B; kB, MB, GB are powers of 1000 and KiB, MiB, GiB powers of 1024
(the IEC meaning, as `ls --si` and `ls -h` print them); the case of the letters does not matter.
So `1MB` is 1,000,000 bytes and `1MiB` is 1,048,576. Anything else is refused with the forms to write.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}
_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*")
HINT = "write a byte count such as 1048576, 1MiB (1,048,576), 1MB (1,000,000), 64KiB or 1GiB"


def parse_byte_size(value: Any) -> Any:
    """'64KiB' -> 65536; integers (and anything not a string) are left to the int field's own checks."""
    if not isinstance(value, str):
        return value
    match = _SIZE.fullmatch(value)
    unit = match[2].lower() if match else None
    if match is None or unit not in _UNITS:
        raise ValueError(f"{value!r} is not a size: {HINT}")
    number = float(match[1]) * _UNITS[unit] if "." in match[1] else int(match[1]) * _UNITS[unit]
    if number != int(number):
        raise ValueError(f"{value!r} is not a whole number of bytes: {HINT}")
    return int(number)


ByteSize = Annotated[int, BeforeValidator(parse_byte_size)]
"""An int config field that also takes '1MiB', '64KiB', '1GB' (see the module's rule)."""


def format_size(n: float) -> str:
    """A byte count for people: `512 B`, `1.5 MiB` (status, test output, progress lines)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"
