"""Grading a class: ``python -m course_lib grade NN SUBMISSIONS --out OUT``.

Every ``.ipynb`` under ``SUBMISSIONS`` is one student's copy of chapter ``NN``. Each is run top to
bottom in a fresh kernel, in a temporary copy of the course (so a submission can change neither the
course nor another submission), under a wall-time limit and an address-space limit. After the last
cell the grader re-checks every exercise with a *pristine* copy of the chapter's checkers, on the
functions the student's notebook defines: the status comes from the checkers themselves
(:func:`course_lib.exercises.Exercise.evaluate`), never from printed text, so a submission that edits or
removes a checker call cannot score an exercise it did not solve.

Writes ``OUT/grades.csv`` (``submission,exercise,status,hint``; status ``passed``, ``failed``,
``not attempted`` or ``error``), ``OUT/report.html`` (submissions × exercises, with each hint and the
totals per exercise) and ``OUT/executed/`` (each submission as it ran, for the instructor to read).

The isolation protects the course from accidents (a notebook that deletes or rewrites files of its
course), not from deliberate attacks: for untrusted code run the grader inside a container or VM.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

__all__ = [
    "BUDGET_S", "ERROR", "STATUSES", "GradeRow", "chapter_exercises", "find_submissions",
    "grade_submissions", "write_csv", "write_report",
]

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 60  #: a chapter's time budget on 2 CPU cores; the default limit is 5 times this
ERROR = "error"
STATUSES = ("passed", "failed", "not attempted", ERROR)
_COPIED = ("course_lib", "datasets")  # what a notebook needs of the course
_MAX_TIMEOUT_S = 24 * 3600
_MAX_MEMORY_MB = 1 << 20


@dataclass(frozen=True)
class GradeRow:
    """One exercise of one submission."""

    submission: str
    exercise: str
    status: str
    hint: str


def _chapter_stem(chapter: str) -> str:
    if not isinstance(chapter, str) or not re.fullmatch(r"\d\d(_\w+)?", chapter):
        raise ValueError(f"expected chapter to be a number like '07' or a notebook stem, got {chapter!r}")
    stems = sorted(p.stem for p in (ROOT / "notebooks").glob(f"{chapter[:2]}_*.ipynb"))
    if not stems:
        raise ValueError(f"no chapter {chapter[:2]} in {ROOT / 'notebooks'}")
    return stems[0]


def chapter_exercises(chapter: str) -> list[tuple[str, str]]:
    """``(function name, label)`` of each exercise of ``chapter`` (e.g. ``"07"``), by number.

    The function name is the one the student's notebook defines and the checker is called with.
    """
    import importlib

    from course_lib.exercises import Exercise

    module = importlib.import_module(f"course_lib.checks_{_chapter_stem(chapter)[:2]}")
    found = [(obj.number, name, obj.label) for name, obj in vars(module).items() if isinstance(obj, Exercise)]
    return [(name, label) for _, name, label in sorted(found)]


def find_submissions(folder: str | os.PathLike[str]) -> list[Path]:
    """Every ``.ipynb`` below ``folder`` (checkpoints skipped), sorted."""
    if not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"expected the submissions folder as a path, got {folder!r}")
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"the submissions folder {str(root)!r} does not exist or is not a folder")
    return sorted(p for p in root.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


# --- running one submission -----------------------------------------------------------------

_RECHECK = """\
# Added by the grader: re-check every exercise with a pristine copy of the chapter's checkers.
import importlib as _i, json as _j, sys as _s
for _m in [m for m in _s.modules if m == "course_lib" or m.startswith("course_lib.")]:
    del _s.modules[_m]
_s.path.insert(0, {pristine!r})
_c = _i.import_module("course_lib.checks_{nn}")
_E = _i.import_module("course_lib.exercises")
_rows = []
for _name, _obj in sorted(vars(_c).items()):
    if isinstance(_obj, _E.Exercise):
        _r = _obj.evaluate(globals().get(_name))
        _rows.append({{"name": _name, "status": _r.status, "message": _r.message}})
print({marker!r} + _j.dumps(_rows))
"""


def _runner(notebook: str, executed: str, progress: str, timeout: int) -> int:
    """Inside the limited child process: execute ``notebook`` with errors allowed, save it to
    ``executed``; the index of the running cell is kept in ``progress``."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    from course_lib.nbtools import _kernel_manager, shut_down_afterwards

    nb = nbformat.read(notebook, as_version=4)

    def mark(cell: Any, cell_index: int) -> None:
        Path(progress).write_text(str(cell_index), encoding="utf-8")

    client = NotebookClient(nb, km=_kernel_manager(), timeout=timeout, kernel_name="python3",
                            allow_errors=True, record_timing=False, on_cell_execute=mark,
                            resources={"metadata": {"path": str(Path(notebook).parent)}})
    code = 0
    try:
        with shut_down_afterwards(client):
            client.execute()
    except DeadKernelError:
        code = 3
    nbformat.write(nb, executed)
    return code


def _limit(memory_mb: int) -> Callable[[], None]:
    def apply() -> None:  # in the child, before exec: its kernel inherits the limit
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


def _first_line(source: str) -> str:
    lines = [ln for ln in source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    text = lines[0].strip() if lines else source.strip()
    return text[:60] + ("…" if len(text) > 60 else "")


def _cell_error(nb: Any) -> str | None:
    """The first error of a cell that is not an exercise (nor a strict-mode checker call, nor a cell
    that calls an exercise the student has not attempted yet)."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        for out in cell.get("outputs", []):
            if out.get("output_type") != "error" or tags & {"exercise", "solution"}:
                continue
            if out.get("ename") in ("ExerciseError", "NotImplementedError"):
                continue  # a strict checker call, or a later cell using an exercise not attempted yet
            return (f"cell {index} (`{_first_line(''.join(cell.source))}`) raised "
                    f"{out.get('ename')}: {str(out.get('evalue'))[:200]}")
    return None


def _grade_one(path: Path, stem: str, exercises: Sequence[tuple[str, str]], workdir: Path,
               executed_dir: Path, name: str, timeout: int, memory_mb: int) -> tuple[dict[str, tuple[str, str]], float]:
    """Status and hint of each exercise (by function name) for one submission, and the seconds it took."""
    import nbformat

    def every(status: str, hint: str) -> dict[str, tuple[str, str]]:
        return {fn: (status, hint) for fn, _ in exercises}

    start = time.perf_counter()
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # invalid JSON or not a notebook
        return every(ERROR, f"not a valid notebook: {type(err).__name__}: {str(err)[:200]}"), 0.0

    course, pristine = workdir / "course", workdir / "pristine"
    for folder in _COPIED:
        shutil.copytree(ROOT / folder, course / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "course_lib", pristine / "course_lib", ignore=shutil.ignore_patterns("__pycache__"))
    (course / "notebooks").mkdir()
    marker = f"GRADER-{secrets.token_hex(8)}:"
    recheck = _RECHECK.format(pristine=str(pristine), nn=stem[:2], marker=marker)
    nb.cells.append(nbformat.v4.new_code_cell(recheck, metadata={"tags": ["grader"]}))
    target = course / "notebooks" / f"{stem}.ipynb"
    nbformat.write(nb, target)
    executed, progress = workdir / "executed.ipynb", workdir / "progress"

    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_STRICT", "COURSE_CPU_REPLICAS")}
    env["PYTHONPATH"] = str(course)
    cmd = [sys.executable, "-m", "course_lib.grade", "--run-one", str(target), str(executed), str(progress),
           str(timeout)]
    proc = subprocess.Popen(cmd, cwd=course / "notebooks", env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True, preexec_fn=_limit(memory_mb))
    try:
        _, stderr = proc.communicate(timeout=timeout + 30)  # + the kernel's start-up
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate()
        timed_out = True
    seconds = time.perf_counter() - start

    def where() -> str:
        try:
            index = int(progress.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return "before its first cell ran"
        return f"in cell {index} (`{_first_line(''.join(nb.cells[index].source))}`)"

    if timed_out:
        return every(ERROR, f"timed out after {timeout} s {where()}"), seconds
    if proc.returncode == 3 or not executed.exists():
        why = stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        return every(ERROR, f"the kernel died {where()} (out of memory? limit {memory_mb} MB): {why[0][:200]}"), seconds
    ran = nbformat.read(executed, as_version=4)
    shutil.copyfile(executed, executed_dir / name.replace(os.sep, "__"))
    problem = _cell_error(ran)
    rows: list[dict[str, str]] = []
    for out in ran.cells[-1].get("outputs", []):
        text = out.get("text", "") if out.get("output_type") == "stream" else ""
        for line in text.splitlines():
            if line.startswith(marker):
                rows = json.loads(line[len(marker):])
    if not rows:
        return every(ERROR, problem or "the grader's re-check did not run"), seconds
    found = {r["name"]: (r["status"], r["message"]) for r in rows}
    if problem:
        return {fn: (ERROR, f"{problem} (its re-check: {found.get(fn, ('?',))[0]})") for fn, _ in exercises}, seconds
    return {fn: found.get(fn, (ERROR, "not re-checked")) for fn, _ in exercises}, seconds


def grade_submissions(chapter: str, submissions: str | os.PathLike[str], out: str | os.PathLike[str],
                      timeout: int | None = None, memory_mb: int = 6144,
                      progress: Callable[[str], None] | None = print) -> list[GradeRow]:
    """Grade every notebook under ``submissions`` as chapter ``chapter``; write ``out/grades.csv``,
    ``out/report.html`` and ``out/executed/``. Returns the rows (one per submission and exercise).

    Args:
        chapter: ``"07"`` or ``"07_attention"``.
        submissions: a folder; every ``.ipynb`` below it is one submission.
        out: the folder to write to (created).
        timeout: seconds one submission may run (default 5 × the chapter budget, 300 s).
        memory_mb: address-space limit of the submission's processes, in MB (TensorFlow alone maps
            about 3 GB).
        progress: called with one line per submission as it is graded (None: silent).

    Raises:
        ValueError / TypeError: for a chapter, folder or limit that is not usable.
    """
    stem = _chapter_stem(chapter)
    timeout = 5 * BUDGET_S if timeout is None else timeout
    for arg, value, top in (("timeout", timeout, _MAX_TIMEOUT_S), ("memory_mb", memory_mb, _MAX_MEMORY_MB)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise ValueError(f"expected {arg} to be a whole number from 1 to {top}, got {value!r}")
    if memory_mb < 1024:
        raise ValueError(f"expected memory_mb >= 1024 (TensorFlow alone maps about 3 GB), got {memory_mb}")
    paths = find_submissions(submissions)
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"expected out to be a path, got {out!r}")
    out_dir = Path(out)
    executed_dir = out_dir / "executed"
    executed_dir.mkdir(parents=True, exist_ok=True)
    exercises = chapter_exercises(stem)
    rows: list[GradeRow] = []
    root = Path(submissions)
    for i, path in enumerate(paths, 1):
        name = str(path.relative_to(root))
        with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
            found, seconds = _grade_one(path, stem, exercises, Path(tmp), executed_dir, name, timeout, memory_mb)
        for fn, label in exercises:
            status, hint = found[fn]
            rows.append(GradeRow(name, label, status, hint))
        if progress is not None:
            counts = {s: sum(found[fn][0] == s for fn, _ in exercises) for s in STATUSES}
            text = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
            progress(f"[{i}/{len(paths)}] {name}  {seconds:5.1f} s  {text}")
    write_csv(rows, out_dir / "grades.csv")
    write_report(rows, out_dir / "report.html", title=f"Grades · {stem}")
    return rows


# --- output ----------------------------------------------------------------------------------

def write_csv(rows: Sequence[GradeRow], path: str | os.PathLike[str]) -> None:
    """``submission,exercise,status,hint``, one line per row."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", "exercise", "status", "hint"])
        for r in rows:
            writer.writerow([r.submission, r.exercise, r.status, r.hint])


_SYMBOL = {"passed": "✓", "failed": "✗", "not attempted": "○", ERROR: "⚠"}
_STYLE = """body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.4em;vertical-align:top;max-width:22em}
.passed{background:#e6f4ea}.failed{background:#fce8e6}.error{background:#fef7e0}
.not-attempted{background:#f1f3f4}small{color:#444}"""


def write_report(rows: Sequence[GradeRow], path: str | os.PathLike[str], title: str = "Grades") -> None:
    """A self-contained HTML page: submissions × exercises with each hint, totals per exercise."""
    subs = list(dict.fromkeys(r.submission for r in rows))
    exs = list(dict.fromkeys(r.exercise for r in rows))
    cell = {(r.submission, r.exercise): r for r in rows}
    passed = {e: sum(cell[s, e].status == "passed" for s in subs if (s, e) in cell) for e in exs}
    hardest = min(exs, key=lambda e: passed[e]) if exs and subs else None
    esc = html.escape
    out = [f"<!doctype html><meta charset='utf-8'><title>{esc(title)}</title><style>{_STYLE}</style>",
           f"<h1>{esc(title)}</h1><p>{len(subs)} submissions, {len(exs)} exercises.",
           f" Hardest for this class: <b>{esc(hardest)}</b>." if hardest else "", "</p>",
           "<table><tr><th>submission</th>" + "".join(f"<th>{esc(e)}</th>" for e in exs) + "<th>passed</th></tr>"]
    for s in subs:
        tds, total = [], 0
        for e in exs:
            r = cell.get((s, e))
            if r is None:
                tds.append("<td></td>")
                continue
            total += r.status == "passed"
            tds.append(f"<td class='{r.status.replace(' ', '-')}'>{_SYMBOL.get(r.status, '')} {esc(r.status)}"
                       f"<br><small>{esc(r.hint)}</small></td>")
        out.append(f"<tr><th>{esc(s)}</th>{''.join(tds)}<td>{total} / {len(exs)}</td></tr>")
    out.append("<tr><th>passed</th>" + "".join(f"<td>{passed[e]} / {len(subs)}</td>" for e in exs) + "<td></td></tr>")
    out.append("</table>")
    Path(path).write_text("\n".join(out) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m course_lib.grade --run-one ...``: the child process that runs one submission."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 5 and args[0] == "--run-one":
        return _runner(args[1], args[2], args[3], int(args[4]))
    print("usage: python -m course_lib grade NN SUBMISSIONS --out OUT (see python -m course_lib grade -h)")
    return 2


if __name__ == "__main__":
    sys.exit(main())
