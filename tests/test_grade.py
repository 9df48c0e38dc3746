"""`python -m course_lib grade`: a class of submissions made from one chapter's own files is graded
with the expected table, and the course is unchanged afterwards."""

from __future__ import annotations

import csv
import hashlib
import re

import nbformat
import pytest
from nbutils import ROOT

from course_lib import grade

CHAPTER = "07_attention"  # a chapter whose solutions run quickly


def _tree_digest() -> str:
    h = hashlib.sha256()
    for folder in ("course_lib", "datasets", "notebooks", "solutions"):
        for p in sorted((ROOT / folder).rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                h.update(str(p.relative_to(ROOT)).encode() + p.read_bytes())
    return h.hexdigest()


def _tagged(nb, tag):
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and tag in c.metadata.get("tags", [])]


def _defines(source: str) -> list[str]:
    return re.findall(r"^def (\w+)", source, flags=re.M)


def _checker_calls(nb):
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and re.search(r"\bchecks\.\w+\(", c.source)
            and not set(c.metadata.get("tags", [])) & {"solution", "exercise"}]


def _class(folder):
    """The solutions, the stubs, one wrong answer, invalid JSON, a notebook that deletes files of the
    course, one that removes its checker calls, one that fakes a checker's ✓ with a wrong answer, and
    one whose last cell (not an exercise) raises."""
    solution = nbformat.read(ROOT / "solutions" / f"{CHAPTER}.ipynb", as_version=4)
    stubs_nb = nbformat.read(ROOT / "notebooks" / f"{CHAPTER}.ipynb", as_version=4)
    stub_of = {}
    for i in _tagged(stubs_nb, "exercise"):
        for name in _defines(stubs_nb.cells[i].source):
            stub_of[name] = stubs_nb.cells[i].source
    exercises = grade.chapter_exercises(CHAPTER)
    first = exercises[0][0]

    def save(name, nb):
        nbformat.write(nb, folder / name)

    save("solutions.ipynb", solution)
    stubs = nbformat.from_dict(solution)  # each worked solution overridden by the chapter's stub
    for i in reversed(_tagged(stubs, "solution")):
        names = [n for n in _defines(stubs.cells[i].source) if n in stub_of]
        for name in names:
            stubs.cells.insert(i + 1, nbformat.v4.new_code_cell(stub_of[name], metadata={"tags": ["exercise"]}))
    save("stubs.ipynb", stubs)

    wrong = nbformat.from_dict(solution)
    at = next(i for i in _tagged(wrong, "solution") if first in _defines(wrong.cells[i].source))
    wrong.cells.insert(at + 1, nbformat.v4.new_code_cell(f"def {first}(*args, **kwargs):\n    return 0.5"))
    save("wrong.ipynb", wrong)

    (folder / "broken.ipynb").write_text("{ this is not JSON", encoding="utf-8")

    deletes = nbformat.from_dict(solution)
    deletes.cells.append(nbformat.v4.new_code_cell(
        "import pathlib, shutil, course_lib\n"
        "here = pathlib.Path(course_lib.__file__).parent\n"
        f"(here / 'checks_{CHAPTER[:2]}.py').unlink()\n"
        "shutil.rmtree(here.parent / 'datasets')"))
    save("deletes.ipynb", deletes)

    no_calls = nbformat.from_dict(solution)
    for i in reversed(_checker_calls(no_calls)):
        del no_calls.cells[i]
    save("no_checker_calls.ipynb", no_calls)

    fake = nbformat.from_dict(wrong)
    for i in _checker_calls(fake):
        fake.cells[i].source = f"print('✓ Exercise · correct on 6 cases')"
    save("fakes_a_pass.ipynb", fake)

    divides = nbformat.from_dict(solution)
    divides.cells.append(nbformat.v4.new_code_cell("1 / 0"))
    save("divides.ipynb", divides)
    return exercises


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    out = tmp_path_factory.mktemp("out")
    before = _tree_digest()
    exercises = _class(folder)
    lines = []
    rows = grade.grade_submissions(CHAPTER[:2], folder, out, timeout=240, progress=lines.append)
    return rows, exercises, out, lines, before


def _table(rows):
    return {(r.submission, r.exercise): r for r in rows}


def test_the_class_is_graded_as_expected(graded):
    rows, exercises, _, lines, _ = graded
    table = _table(rows)
    labels = [label for _, label in exercises]
    first = labels[0]
    expect = {
        "solutions.ipynb": {lab: "passed" for lab in labels},
        "stubs.ipynb": {lab: "not attempted" for lab in labels},
        "wrong.ipynb": {lab: "failed" if lab == first else "passed" for lab in labels},
        "broken.ipynb": {lab: "error" for lab in labels},
        "deletes.ipynb": {lab: "passed" for lab in labels},
        "no_checker_calls.ipynb": {lab: "passed" for lab in labels},
        "fakes_a_pass.ipynb": {lab: "failed" if lab == first else "passed" for lab in labels},
        "divides.ipynb": {lab: "error" for lab in labels},
    }
    got = {s: {lab: table[s, lab].status for lab in labels} for s in expect}
    assert got == expect
    assert "not a valid notebook" in table["broken.ipynb", first].hint
    assert table["wrong.ipynb", first].hint  # the checker's own hint
    hint = table["divides.ipynb", first].hint
    assert "raised ZeroDivisionError" in hint and "(its re-check: passed)" in hint
    assert len(lines) == len(expect) and lines[0].startswith(f"[1/{len(expect)}] ")


def test_the_course_is_unchanged(graded):
    *_, before = graded
    assert _tree_digest() == before


def test_csv_and_report(graded):
    rows, exercises, out, _, _ = graded
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    assert table[0] == ["submission", "exercise", "status", "hint"]
    assert len(table) == 1 + len(rows)
    assert {r[2] for r in table[1:]} <= set(grade.STATUSES)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Hardest for this class" in page and "broken.ipynb" in page
    assert page.count("<tr>") == 1 + 8 + 1  # header, one row per submission, the totals
    assert (out / "executed" / "solutions.ipynb").exists()


def test_an_endless_loop_times_out_and_names_its_cell(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell("while True:\n    pass")])
    folder = tmp_path / "class"
    folder.mkdir()
    nbformat.write(nb, folder / "loops.ipynb")
    rows = grade.grade_submissions(CHAPTER[:2], folder, tmp_path / "out", timeout=5, progress=None)
    assert {r.status for r in rows} == {"error"}
    assert "timed out after 5 s in cell 1 (`while True:`)" in rows[0].hint


@pytest.mark.parametrize("kwargs, match", [
    ({"chapter": "7"}, "chapter"), ({"chapter": "99"}, "no chapter 99"),
    ({"timeout": 0}, "timeout"), ({"timeout": True}, "timeout"), ({"memory_mb": 10}, "memory_mb"),
    ({"submissions": "/no/such/folder"}, "does not exist"),
])
def test_bad_arguments_are_named(tmp_path, kwargs, match):
    args = {"chapter": "07", "submissions": tmp_path, "out": tmp_path / "out", **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        grade.grade_submissions(**args)
