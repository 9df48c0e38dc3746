"""Running a multi-worker ``tf.distribute`` job on one machine: ports, TF_CONFIG, bounded workers.

:func:`launch` starts ``num_workers`` Python processes on 127.0.0.1, each with its own
``TF_CONFIG`` (the cluster: every worker's address; the task: this process's type and index),
captures each worker's output in a log file, bounds the whole run in time and, whatever happens,
kills every worker's process group with SIGKILL on the way out. A worker that fails, or a run that
outlives its bound, ends with a :class:`WorkerError` naming the worker and showing its log tail —
never with a hang (a MultiWorkerMirroredStrategy worker whose peer is gone waits forever, and it
traps SIGTERM, hence SIGKILL).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from course_lib._validate import check_arguments, check_float, check_path

__all__ = [
    "WorkerError", "WorkerTimeout", "LaunchResult", "free_ports", "make_tf_config",
    "leftover_processes", "launch",
]

#: The folder that holds the ``course_lib`` package (put on the workers' ``PYTHONPATH``).
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])


class WorkerError(RuntimeError):
    """A worker failed, or the run reached its time bound. ``worker`` is its index (or None)."""

    def __init__(self, message: str, worker: int | None = None, logs: dict[int, str] | None = None):
        super().__init__(message)
        self.worker = worker
        self.logs = logs or {}


class WorkerTimeout(WorkerError):
    """The run reached ``timeout_s`` with workers still running."""


@dataclass
class LaunchResult:
    """What a successful :func:`launch` returns: the log of each worker and how long the run took."""

    logs: dict[int, str]
    seconds: float
    log_dir: Path
    tf_configs: list[dict] = field(default_factory=list)


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports on 127.0.0.1 that were free a moment ago (the OS picks them)."""
    check_arguments(free_ports, locals(), n="own")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"expected n to be an int >= 1, got {n!r}")
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def make_tf_config(workers: Sequence[str], index: int, task_type: str = "worker") -> dict:
    """The ``TF_CONFIG`` of one process: ``{"cluster": {"worker": [...]}, "task": {...}}``.

    Args:
        workers: every worker's ``host:port``, the same list (same order) for every process.
        index: this process's position in ``workers`` (worker 0 is the chief).
        task_type: ``"worker"`` (MultiWorkerMirroredStrategy has no separate chief task here).

    Raises:
        ValueError: on an empty list, an address without a port, or an index out of range.
    """
    check_arguments(make_tf_config, locals(), workers="own", index="own")
    workers = list(workers)
    if not workers:
        raise ValueError("expected at least one worker address, got an empty list")
    for address in workers:
        host, _, port = str(address).rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"expected worker addresses as 'host:port', got {address!r}")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(workers):
        raise ValueError(f"expected index to be an int in [0, {len(workers) - 1}], got {index!r}")
    return {"cluster": {task_type: workers}, "task": {"type": task_type, "index": index}}


def leftover_processes(marker: str) -> list[str]:
    """Command lines of running processes that contain ``marker`` (e.g. a run's output folder)."""
    check_arguments(leftover_processes, locals(), marker="own")
    if not isinstance(marker, str) or len(marker) < 3:
        raise ValueError(f"expected a marker string of at least 3 characters, got {marker!r}")
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines()[1:] if marker in line and not line.startswith("ps ")]


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "<no log>"
    return "\n".join(text.rstrip().splitlines()[-lines:]) or "<empty log>"


def _command(script: str | Path, args: Sequence[str]) -> list[str]:
    path = Path(script)
    if path.suffix == ".py":
        if not path.is_file():
            raise ValueError(f"worker script {str(script)!r} does not exist")
        return [sys.executable, "-u", str(path), *map(str, args)]
    name = str(script)
    if name.replace(".", "").replace("_", "").isalnum() and not name.startswith("."):
        return [sys.executable, "-u", "-m", name, *map(str, args)]
    raise ValueError(f"expected a .py file or a module name like 'course_lib.multiworker_worker', got {name!r}")


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the worker and anything it started
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be trapped
        pass


#: Bounds of :func:`launch`: worker processes, and seconds the whole run may take.
MAX_WORKERS = 64
MAX_TIMEOUT_S = 86_400.0


def launch(
    script: str | Path,
    num_workers: int = 2,
    timeout_s: float = 120.0,
    args: Sequence[str] = (),
    log_dir: str | Path | None = None,
    env: dict[str, str] | None = None,
    poll_s: float = 0.2,
) -> LaunchResult:
    """Run ``script`` as ``num_workers`` workers of one cluster on 127.0.0.1 and wait for all of them.

    Each worker gets ``TF_CONFIG`` for its index (ports picked free), its output (stdout and
    stderr) goes to ``log_dir/worker_<i>.log``, and it runs in its own session (process group).
    When a worker exits with a non-zero code, the others are killed at once; when ``timeout_s``
    passes, all are. Every process group is killed with SIGKILL in a ``finally``.

    Args:
        script: a ``.py`` file, or a module name run with ``python -m``.
        num_workers: how many worker processes (1 to ``MAX_WORKERS``, 64).
        timeout_s: the bound on the whole run, in seconds (at most ``MAX_TIMEOUT_S``, a day).
        args: command-line arguments given to every worker.
        log_dir: where the logs go (a new temporary folder by default).
        env: extra environment variables for the workers.

    Returns:
        A :class:`LaunchResult` with every worker's log.

    Raises:
        ValueError: on bad arguments.
        WorkerError: a worker exited with a non-zero code (its index and log tail in the message).
        WorkerTimeout: the bound was reached (which workers were still running, and their log tails).
    """
    check_arguments(launch, locals(),
                    num_workers="own", timeout_s="own", args="own", log_dir="own", env="own", poll_s="own")
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 1:
        raise ValueError(f"expected num_workers to be an int >= 1, got {num_workers!r}")
    if not isinstance(timeout_s, (int, float)) or isinstance(timeout_s, bool) or not 0 < timeout_s <= MAX_TIMEOUT_S:
        # `not 0 < t` also refuses NaN (with `t <= 0`, NaN passed and the run waited forever)
        raise ValueError(f"expected timeout_s to be a positive number of seconds <= {MAX_TIMEOUT_S:g}, got {timeout_s!r}")
    if num_workers > MAX_WORKERS:
        raise ValueError(f"expected num_workers to be an int in [1, {MAX_WORKERS}], got {num_workers!r}")
    check_float(poll_s, "poll_s", 0.0, 60.0, low_open=True)
    if isinstance(args, (str, bytes)) or not isinstance(args, (list, tuple)) or not all(isinstance(a, str) for a in args):
        raise ValueError(f"expected args to be a list of strings (command-line arguments), got {args!r:.60}")
    if env is not None and (not isinstance(env, dict)
                            or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())):
        raise ValueError(f"expected env to be None or a dict of str -> str, got {env!r:.60}")
    check_path(log_dir, "log_dir", none=True)
    command = _command(script, args)
    log_dir = Path(log_dir) if log_dir is not None else Path(tempfile.mkdtemp(prefix="workers_"))
    log_dir.mkdir(parents=True, exist_ok=True)
    addresses = [f"127.0.0.1:{p}" for p in free_ports(num_workers)]
    configs = [make_tf_config(addresses, i) for i in range(num_workers)]
    log_paths = [log_dir / f"worker_{i}.log" for i in range(num_workers)]
    base_env = dict(os.environ)
    base_env.update({"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0",
                     "KERAS_BACKEND": "tensorflow", "CUDA_VISIBLE_DEVICES": "",
                     "PYTHONUNBUFFERED": "1"})
    base_env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_PARENT, base_env.get("PYTHONPATH")) if p)
    base_env.update(env or {})

    procs: list[subprocess.Popen] = []
    files = []
    start = time.monotonic()
    try:
        for i in range(num_workers):
            worker_env = dict(base_env, TF_CONFIG=json.dumps(configs[i]))
            log = open(log_paths[i], "w", encoding="utf-8")
            files.append(log)
            procs.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=worker_env,
                                          stdin=subprocess.DEVNULL, start_new_session=True))
        while True:
            codes = [p.poll() for p in procs]
            for i, code in enumerate(codes):
                if code is not None and code != 0:
                    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
                    raise WorkerError(
                        f"worker {i} {how} after {time.monotonic() - start:.1f} s; the other workers "
                        f"were stopped. Last lines of worker {i}'s log ({log_paths[i]}):\n{_tail(log_paths[i])}",
                        worker=i, logs={j: _tail(p) for j, p in enumerate(log_paths)},
                    )
            if all(code == 0 for code in codes):
                break
            if time.monotonic() - start > timeout_s:
                running = [i for i, code in enumerate(codes) if code is None]
                tails = "\n".join(f"--- worker {i} ({log_paths[i]}):\n{_tail(log_paths[i], 8)}" for i in running)
                raise WorkerTimeout(
                    f"the run reached its bound of {timeout_s:g} s with worker(s) {running} still running "
                    f"(a peer that died or never started leaves the others waiting); all were killed.\n{tails}",
                    worker=running[0], logs={j: _tail(p) for j, p in enumerate(log_paths)},
                )
            time.sleep(poll_s)
        seconds = time.monotonic() - start
    finally:
        for p in procs:
            _kill_group(p)
        for f in files:
            f.close()
    logs = {i: p.read_text(encoding="utf-8", errors="replace") for i, p in enumerate(log_paths)}
    return LaunchResult(logs=logs, seconds=seconds, log_dir=log_dir, tf_configs=configs)
