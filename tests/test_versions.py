"""The versions the course says it supports are the versions `make compat` tests: pyproject.toml's
lower bounds, requirements-lowest.txt and the setup cell's minimums agree."""

import re

import pytest
from nbutils import ROOT

from course_lib import environment

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11


def _pins(name):
    pins = {}
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            pkg, version = line.split("==")
            pins[pkg.strip().lower()] = version.strip()
    return pins


def _floors():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["rl"]
    floors = {}
    for dep in deps:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)(,<\d+)?", dep)
        assert m, f"pyproject.toml: expected 'name>=floor[,<major]', got {dep!r}"
        floors[m.group(1).lower()] = m.group(2)
    return floors


def _parts(version):
    return tuple(int(p) for p in version.split("."))


def test_every_floor_is_the_tested_lowest_version():
    lowest = _pins("requirements-lowest.txt")
    for pkg, floor in _floors().items():
        assert pkg in lowest, f"{pkg} has a floor in pyproject.toml but is not in requirements-lowest.txt"
        tested = _parts(lowest[pkg])
        assert tested[:len(_parts(floor))] == _parts(floor), (
            f"{pkg}: pyproject.toml says >={floor}, requirements-lowest.txt tests {lowest[pkg]}")


def test_the_pinned_set_is_within_the_range():
    pinned = _pins("requirements.txt")
    for pkg, floor in _floors().items():
        assert _parts(pinned[pkg]) >= _parts(floor), f"{pkg} {pinned[pkg]} is below the floor {floor}"


def test_test_tools_are_the_same_in_both_files():
    pinned, lowest = _pins("requirements.txt"), _pins("requirements-lowest.txt")
    for tool in ("nbval", "pytest", "pytest-xdist", "nbclient", "nbformat", "ipykernel", "hypothesis"):
        assert lowest.get(tool) == pinned.get(tool), tool


def test_the_setup_cell_minimums_are_the_floors():
    floors = _floors()
    assert environment.MIN_KERAS == floors["keras"]
    assert environment.MIN_TENSORFLOW == floors["tensorflow"]
    assert _parts(floors["keras"]) >= (3, 14), "Keras < 3.14 has known safe_mode bypasses"
