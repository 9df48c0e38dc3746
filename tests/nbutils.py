"""Test helpers: load the functions a notebook defines in cells tagged ``solution`` or ``exercise``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def tagged_cells(path: Path, tag: str) -> list[str]:
    """The sources of the code cells of ``path`` that carry ``tag``."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return [
        "".join(c["source"]) for c in nb["cells"]
        if c["cell_type"] == "code" and tag in c.get("metadata", {}).get("tags", [])
    ]


def load_tagged(chapter: str, tag: str = "solution", folder: str = "solutions") -> dict[str, Any]:
    """Execute the cells of ``folder/chapter.ipynb`` tagged ``tag``; return what they define."""
    path = ROOT / folder / f"{chapter}.ipynb"
    cells = tagged_cells(path, tag)
    if not cells:
        raise AssertionError(f"{path} has no cells tagged {tag!r}")
    namespace: dict[str, Any] = {}
    for source in cells:
        exec(compile(source, f"{path.name}[{tag}]", "exec"), namespace)
    return namespace


def assert_rejects(checker: Any, wrong: Any, hint: str) -> None:
    """Assert that ``checker`` fails ``wrong`` with a message containing ``hint``."""
    from course_lib.exercises import FAILED

    result = checker.evaluate(wrong)
    assert result.status == FAILED and hint in result.message, result.message


def chapters() -> list[str]:
    """The chapters' notebook names (``00_getting_started``, ...), sorted."""
    return sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def chapter_exercises(chapter: str) -> dict[str, Any]:
    """The :class:`~course_lib.exercises.Exercise` objects of ``course_lib/checks_NN.py``, by name."""
    import importlib

    from course_lib.exercises import Exercise

    module = importlib.import_module(f"course_lib.checks_{chapter[:2]}")
    found = {name: obj for name, obj in vars(module).items() if isinstance(obj, Exercise)}
    assert found, f"course_lib/checks_{chapter[:2]}.py declares no exercises"
    return found
