"""Executing and checking the course's notebooks (behind ``python -m course_lib``).

- :func:`find_notebooks` resolves ``00`` / ``00_getting_started`` / a path to notebook files;
- :func:`execute_notebook` runs one in a clean kernel of this Python, top to bottom, in its own
  folder, and stores the outputs (the only way stored outputs are made);
- :func:`check_notebooks` runs strict nbval on each and returns a per-notebook table;
- :func:`rehearse_notebooks` runs each on several simulated replicas (every assert must hold);
- :func:`notebook_from_script` turns a "percent" script (``# %%`` cells) into a notebook.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from course_lib._validate import check_arguments

__all__ = [
    "find_notebooks", "shut_down_afterwards", "execute_notebook", "RehearsalRow",
    "rehearse_notebooks", "CheckRow", "check_notebooks", "format_table", "notebook_from_script",
]

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("notebooks", "solutions")


def find_notebooks(selectors: Iterable[str] = (), folders: Iterable[str] = FOLDERS) -> list[Path]:
    """Notebook paths for selectors such as ``00``, ``03_backpropagation`` or a path; all if none.

    Raises:
        ValueError: when a selector matches no notebook.
    """
    check_arguments(find_notebooks, locals(), folders="own")
    folders = tuple(folders)
    for f in folders:
        if f not in FOLDERS:
            raise ValueError(f"expected folders among {FOLDERS}, got {f!r}")
    every = [p for f in folders for p in sorted((ROOT / f).glob("[0-9][0-9]_*.ipynb"))]
    selectors = list(selectors)
    if not selectors:
        return every
    chosen: list[Path] = []
    for sel in selectors:
        path = Path(sel)
        if path.suffix == ".ipynb" and path.exists():
            hits = [path.resolve()]
        else:
            hits = [p for p in every if p.stem == sel or p.stem.split("_")[0] == sel]
        if not hits:
            names = sorted({p.stem for p in every})
            raise ValueError(f"no notebook matches {sel!r} (selectors); expected a number like 00 or one of {names}")
        chosen += [h for h in hits if h not in chosen]
    return chosen


def _kernel_manager() -> Any:
    """A kernel manager that starts an ipykernel of *this* Python (the course's environment)."""
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    class _ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            return KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name="Python 3", language="python",
            )

    return KernelManager(kernel_name="python3", kernel_spec_manager=_ThisPython())


def _run(path: Path, timeout: int, env: dict[str, str] | None = None) -> tuple[Any, float]:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, km=_kernel_manager(), timeout=timeout, kernel_name="python3", record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    with shut_down_afterwards(client):
        client.execute(env={**os.environ, **(env or {})})
    return nb, time.perf_counter() - start


@contextlib.contextmanager
def shut_down_afterwards(client: Any) -> Iterator[Any]:
    """Run a ``NotebookClient`` and always stop its kernel afterwards.

    nbclient leaves a kernel running when it was given its kernel manager (as here, to pin the
    kernel to this Python); without this every executed notebook would leave a TensorFlow process of
    about 1 GB behind.
    """
    try:
        yield client
    finally:
        km = client.km
        if km is not None and km.has_kernel:
            km.shutdown_kernel(now=True)


def execute_notebook(path: Path, timeout: int = 600) -> float:
    """Run ``path`` top to bottom in a clean kernel in its folder and save it with its outputs.

    Returns the wall time in seconds. Raises ``nbclient.exceptions.CellExecutionError`` (and
    leaves the file untouched) when a cell fails.
    """
    check_arguments(execute_notebook, locals())
    import nbformat

    path = Path(path)
    nb, seconds = _run(path, timeout)
    nb.metadata.pop("widgets", None)
    _drop_runtime_logs(nb)
    nbformat.write(nb, path)
    return seconds


@dataclass
class RehearsalRow:
    """One notebook run on several simulated replicas: did every cell (and assert) pass?"""

    path: Path
    passed: bool
    seconds: float
    error: str


def rehearse_notebooks(paths: Iterable[Path], replicas: int, timeout: int = 900) -> list[RehearsalRow]:
    """Run each notebook top to bottom with at least ``replicas`` simulated CPU replicas.

    The kernel gets ``COURSE_CPU_REPLICAS`` (read by ``setup_notebook``), so every model is
    mirrored as on a machine with that many GPUs; nothing is saved and no output is compared
    (trained numbers legitimately change), but every cell must run and every assert must hold.

    Raises:
        ValueError: when ``replicas`` is not an int >= 1.
    """
    check_arguments(rehearse_notebooks, locals(), replicas="own")
    from course_lib.environment import REPLICAS_VARIABLE

    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1:
        raise ValueError(f"expected replicas to be an int >= 1, got {replicas!r}")
    rows = []
    for path in paths:
        start = time.perf_counter()
        try:
            _run(Path(path), timeout, {REPLICAS_VARIABLE: str(replicas)})
        except Exception as err:  # CellExecutionError, a timeout, a dead kernel
            plain = re.sub(r"\x1b\[[0-9;]*m", "", str(err))  # tracebacks come coloured
            last = [line for line in plain.strip().splitlines() if line.strip()]
            rows.append(RehearsalRow(Path(path), False, time.perf_counter() - start,
                                     last[-1][:200] if last else type(err).__name__))
        else:
            rows.append(RehearsalRow(Path(path), True, time.perf_counter() - start, ""))
    return rows


_RUNTIME_LOG = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\] .*"
    r"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.)$"
)


def _drop_runtime_logs(nb: Any) -> None:
    """Remove stderr outputs made only of TensorFlow's C++ start-up log lines.

    TensorFlow writes them from C++ before Python can silence it (e.g. "Could not find cuda drivers",
    or TF Lite's "Created TensorFlow Lite XNNPACK delegate");
    they say nothing about the notebook's code, differ on every run, and nbval never compares stderr.
    """
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = [
            o for o in cell.outputs
            if not (o.output_type == "stream" and o.name == "stderr"
                    and all(_RUNTIME_LOG.match(ln) for ln in o.text.splitlines() if ln.strip()))
        ]


@dataclass
class CheckRow:
    """One notebook's nbval result."""

    notebook: str
    passed: bool
    seconds: float
    summary: str


def check_notebooks(paths: Iterable[Path], extra_args: Iterable[str] = ()) -> list[CheckRow]:
    """Run strict nbval (the project's pytest configuration) on each notebook, one at a time."""
    check_arguments(check_notebooks, locals())
    rows = []
    for path in paths:
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", str(path), *extra_args],
            cwd=ROOT, capture_output=True, text=True,
        )
        seconds = time.perf_counter() - start
        lines = [ln for ln in proc.stdout.strip().splitlines() if ln.strip()]
        summary = lines[-1].strip("= ") if lines else "(no output)"
        if proc.returncode != 0:
            print(proc.stdout[-4000:], proc.stderr[-2000:], sep="\n")
        rows.append(CheckRow(str(Path(path).relative_to(ROOT)), proc.returncode == 0, seconds, summary))
    return rows


def format_table(rows: list[CheckRow]) -> str:
    """A Markdown table of check results."""
    check_arguments(format_table, locals(), rows="own")
    if any(not isinstance(r, CheckRow) for r in rows):
        raise ValueError(f"expected rows to be CheckRow objects (from check_notebooks), got {rows!r:.60}")
    out = ["| notebook | result | seconds | pytest |", "|---|---|---:|---|"]
    for r in rows:
        out.append(f"| {r.notebook} | {'pass' if r.passed else 'FAIL'} | {r.seconds:.1f} | {r.summary} |")
    return "\n".join(out)


_CELL = re.compile(r"^# %%(?P<rest>.*)$")


def notebook_from_script(text: str) -> Any:
    """A notebook from a percent-format script: ``# %%`` starts a code cell, ``# %% [markdown]`` a
    Markdown cell (its lines start with ``# ``), and ``tags=["a", "b"]`` after ``# %%`` tags it."""
    check_arguments(notebook_from_script, locals())
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata.update({
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    blocks: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        m = _CELL.match(line)
        if m:
            blocks.append((m.group("rest"), []))
        elif blocks:
            blocks[-1][1].append(line)
    for header, lines in blocks:
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        tags_m = re.search(r"tags=(\[.*?\])", header)
        tags = json.loads(tags_m.group(1)) if tags_m else []
        if "[markdown]" in header:
            body = "\n".join(ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in lines)
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell("\n".join(lines))
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):  # stable ids, so rebuilding gives the same file
        cell["id"] = f"c{i:03d}"
    return nb
