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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A skipped test is a failed test here: integration tests talk to real servers or do not count."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped tests count as failures: {report.longrepr}"
