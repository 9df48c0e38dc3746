"""pytest hooks for strict nbval: leave stderr out of the comparison, and bound each notebook.

TensorFlow writes some start-up lines straight to the OS stream; ipykernel does not capture them
reliably, so stderr is never compared (DEVELOPERS.md, convention 3). Everything else is compared
strictly, after the substitutions in tests/sanitize.cfg.
"""

from __future__ import annotations

import os
import time

import pytest

#: A hang guard, not a benchmark: a notebook whose cells together run longer than this fails.
NOTEBOOK_BUDGET_S = float(os.environ.get("COURSE_NOTEBOOK_BUDGET", "300"))
_started: dict[str, float] = {}

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def pytest_collectstart(collector):
    if type(collector).__name__ == "IPyNbFile":
        collector.skip_compare = (*collector.skip_compare, "stderr")


def pytest_runtest_setup(item):
    if type(item).__name__ != "IPyNbCell":
        return
    key = str(item.fspath)
    start = _started.setdefault(key, time.monotonic())
    elapsed = time.monotonic() - start
    if elapsed > NOTEBOOK_BUDGET_S:
        pytest.fail(f"{item.fspath.basename} has run {elapsed:.0f} s, over its {NOTEBOOK_BUDGET_S:.0f} s budget")
