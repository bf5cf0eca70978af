"""Test-wide settings: a non-UTC process time zone, and no agent subprocess outliving its test."""

import os
import time
from collections.abc import Iterator

import pytest

from tests.agenthelp import kill_leftovers

# Any accidental use of local time (naive datetimes, time.localtime) shows up as a wrong value.
os.environ["TZ"] = "Etc/GMT+2"
time.tzset()


@pytest.fixture(autouse=True)
def _no_agent_outlives_its_test() -> Iterator[None]:
    yield
    kill_leftovers()
