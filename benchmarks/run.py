"""Time and memory of every notebook, executed top to bottom in a clean kernel, one at a time.

    python benchmarks/run.py                 # all notebooks and solutions
    python benchmarks/run.py 00 03           # only these chapters (both folders)
    python benchmarks/run.py --solutions 05  # only solutions/05_*

Stored notebooks are not modified (execution happens in memory). Results are merged into
benchmarks/results.json and rendered as the table in benchmarks/RESULTS.md. The course's budget is
60 s per notebook on a 2-core CPU: rows over it are marked.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from course_lib import nbtools  # noqa: E402

BUDGET_S = 60.0
RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "RESULTS.md"

_PEAK_CELL = """
import resource, sys
_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
_kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
_scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
print("__PEAK_BYTES__", max(_self, _kids) * _scale)
"""


def measure(path: Path, timeout: int = 900) -> dict:
    """Execute ``path`` in memory in a clean kernel; return seconds, peak memory and status."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_PEAK_CELL))
    client = NotebookClient(nb, km=nbtools._kernel_manager(), timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    status, peak = "ok", None
    try:
        with nbtools.shut_down_afterwards(client):
            client.execute()
    except Exception as err:  # a failing cell: record it, keep benchmarking the others
        status = f"error: {type(err).__name__}"
    seconds = time.perf_counter() - start
    # the kernel may deliver the printed line in several stream chunks: join them first
    printed = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []) if o.get("name") == "stdout")
    found = re.search(r"__PEAK_BYTES__\s+(\d+)", printed)
    if found:
        peak = int(found.group(1))
    return {"seconds": round(seconds, 1), "peak_mb": round(peak / 2**20) if peak else None,
            "status": status, "measured": dt.date.today().isoformat()}


def render(results: dict) -> str:
    """The Markdown table of all results."""
    import tensorflow as tf  # noqa: F401  (versions for the header)

    lines = [
        "# Benchmarks: wall time and peak memory per notebook",
        "",
        f"Each notebook executed top to bottom in a clean kernel (`python benchmarks/run.py`), one at a "
        f"time, on {os.cpu_count()} CPU cores, Python {platform.python_version()}, TensorFlow "
        f"{tf.__version__}. Wall time includes starting the kernel and importing TensorFlow. "
        f"Budget: {BUDGET_S:.0f} s per notebook.",
        "",
        "| notebook | seconds | peak memory (MB) | status | measured |",
        "|---|---:|---:|---|---|",
    ]
    for key in sorted(results):
        r = results[key]
        flag = " ⚠ over budget" if r["seconds"] > BUDGET_S else ""
        lines.append(f"| {key} | {r['seconds']:.1f}{flag} | {r['peak_mb'] or 'n/a'} | {r['status']} | {r['measured']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapters", nargs="*")
    parser.add_argument("--notebooks", action="store_true")
    parser.add_argument("--solutions", action="store_true")
    args = parser.parse_args(argv)
    folders = [f for f, on in (("notebooks", args.notebooks), ("solutions", args.solutions)) if on] or list(nbtools.FOLDERS)
    paths = nbtools.find_notebooks(args.chapters, folders)
    results = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    for path in paths:
        key = path.relative_to(nbtools.ROOT).as_posix()
        print(f"{key} ...", end=" ", flush=True)
        results[key] = measure(path)
        print(f"{results[key]['seconds']} s, {results[key]['peak_mb']} MB, {results[key]['status']}")
        RESULTS_JSON.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
        RESULTS_MD.write_text(render(results), encoding="utf-8")  # nothing lost if interrupted
    print(f"wrote {RESULTS_MD.relative_to(nbtools.ROOT)}")
    return 0 if all(results[p.relative_to(nbtools.ROOT).as_posix()]["status"] == "ok" for p in paths) else 1


if __name__ == "__main__":
    sys.exit(main())
