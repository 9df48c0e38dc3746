"""Tools and deployment (chapter 14): run records, fingerprints, model cards, a tiny prediction server.

- :func:`file_sha256` and :func:`array_fingerprint` identify a data file or the arrays a model saw;
- :func:`write_run_record`, :func:`load_run_record` and :func:`compare_runs` keep a small JSON record
  of a training run (hyper-parameters, metrics, library versions, a hash of the data) and compare runs;
- :func:`model_card` writes a Markdown model card from a run record;
- :class:`PredictionServer` serves a prediction function on 127.0.0.1 with TensorFlow Serving's REST
  API (``POST /v1/models/NAME:predict`` with ``{"instances": [...]}``), in a thread, for as long as a
  ``with`` block lasts;
- :func:`plot_histograms` and :func:`plot_runs` draw the chapter's figures (what TensorBoard's
  histogram and scalar dashboards show).

The saving, exporting and converting themselves are done in the notebook, where they are taught.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = [
    "file_sha256", "array_fingerprint", "library_versions", "write_run_record", "load_run_record",
    "compare_runs", "model_card", "PredictionServer", "plot_histograms", "plot_runs",
]

#: The keys every run record has.
RECORD_KEYS = ("name", "created", "hyperparameters", "metrics", "data_sha256", "versions", "notes")
_MAX_BODY = 10 * 1024 * 1024  # bytes: larger request bodies are refused (413)


# --- fingerprints ------------------------------------------------------------------------------


def file_sha256(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """The hex SHA-256 of a file's bytes, read in binary chunks (like ``sha256sum``).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` is a folder, or ``chunk_size`` is not a positive int.
    """
    path = Path(path)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"expected chunk_size to be an int >= 1, got {chunk_size!r}")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if not path.is_file():
        raise ValueError(f"expected a file, got the folder {path}")
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def array_fingerprint(*arrays: Any) -> str:
    """A hex SHA-256 of NumPy arrays: their dtypes, shapes and bytes, in order.

    Two arrays with the same values but another dtype or shape get another fingerprint, so a run
    record says exactly which data a model saw.

    Raises:
        ValueError: no array was given, or one is an object array (its bytes are pointers).
    """
    if not arrays:
        raise ValueError("expected at least one array, got none")
    digest = hashlib.sha256()
    for i, a in enumerate(arrays):
        a = np.ascontiguousarray(np.asarray(a))
        if a.dtype == object:
            raise ValueError(f"array {i}: expected a numeric or string array, got dtype object")
        digest.update(f"{a.dtype.str}|{a.shape}|".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """The versions that decide whether a run can be reproduced: Python, TensorFlow, Keras, NumPy."""
    import keras
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": np.__version__}


# --- run records -------------------------------------------------------------------------------


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"expected a non-empty run name, got {name!r}")
    return name


def _check_metrics(metrics: Any) -> dict[str, float]:
    if not isinstance(metrics, Mapping) or not metrics:
        raise ValueError(f"expected metrics to be a non-empty dict of numbers, got {metrics!r}")
    out = {}
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"metric {key!r}: expected a number, got {type(value).__name__} {value!r}")
        if not math.isfinite(float(value)):
            raise ValueError(f"metric {key!r}: expected a finite number, got {value!r}")
        out[str(key)] = float(value)
    return out


def _check_sha256(digest: Any) -> str:
    if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
        raise ValueError(f"expected data_sha256 to be 64 lowercase hex digits, got {digest!r}")
    return digest


def write_run_record(
    path: str | Path,
    *,
    name: str,
    hyperparameters: Mapping[str, Any],
    metrics: Mapping[str, float],
    data_sha256: str,
    notes: str = "",
) -> dict[str, Any]:
    """Write a JSON record of one training run to ``path`` and return it.

    The record holds the run's name, when it was written (UTC), its hyper-parameters, its final
    metrics, the fingerprint of its data and the library versions — enough to tell two runs apart
    and to see whether a result can be reproduced.

    Raises:
        ValueError: an empty name, hyper-parameters that JSON cannot hold, metrics that are not
            finite numbers, or a data hash that is not a hex SHA-256.
    """
    if not isinstance(hyperparameters, Mapping):
        raise ValueError(f"expected hyperparameters to be a dict, got {type(hyperparameters).__name__}")
    try:
        hyper = json.loads(json.dumps(dict(hyperparameters)))
    except TypeError as err:
        raise ValueError(f"hyperparameters must be JSON values (str, int, float, bool, list, dict): {err}") from None
    record = {
        "name": _check_name(name),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "hyperparameters": hyper,
        "metrics": _check_metrics(metrics),
        "data_sha256": _check_sha256(data_sha256),
        "versions": library_versions(),
        "notes": str(notes),
    }
    Path(path).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return record


def load_run_record(path: str | Path) -> dict[str, Any]:
    """Read a run record written by :func:`write_run_record`.

    Raises:
        ValueError: the file is not JSON, or lacks one of :data:`RECORD_KEYS`.
    """
    text = Path(path).read_text(encoding="utf-8")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not a JSON run record ({err})") from None
    missing = [k for k in RECORD_KEYS if not isinstance(record, dict) or k not in record]
    if missing:
        raise ValueError(f"{path}: expected a run record with keys {list(RECORD_KEYS)}, missing {missing}")
    return record


def compare_runs(records: Sequence[Mapping[str, Any]], metrics: Sequence[str] | None = None) -> str:
    """A text table of runs: the hyper-parameters that differ between them, then their metrics.

    Args:
        records: two or more run records.
        metrics: which metrics to show (default: those every run has, sorted).

    Raises:
        ValueError: fewer than two records, or a requested metric missing from a run.
    """
    if len(records) < 2:
        raise ValueError(f"expected at least two run records to compare, got {len(records)}")
    names = [_check_name(r.get("name")) for r in records]
    keys = sorted(set().union(*(r["hyperparameters"] for r in records)))
    differ = [k for k in keys if len({json.dumps(r["hyperparameters"].get(k), sort_keys=True) for r in records}) > 1]
    if metrics is None:
        metrics = sorted(set.intersection(*(set(r["metrics"]) for r in records)))
    for m in metrics:
        for r in records:
            if m not in r["metrics"]:
                raise ValueError(f"run {r['name']!r} has no metric {m!r}; it has {sorted(r['metrics'])}")
    width = max(12, *(len(n) for n in names))
    first = max([len("run"), *(len(k) for k in differ), *(len(m) for m in metrics)])
    lines = ["run".ljust(first) + " | " + " | ".join(n.rjust(width) for n in names)]
    lines.append("-" * len(lines[0]))
    for k in differ:
        cells = [str(r["hyperparameters"].get(k, "-")).rjust(width) for r in records]
        lines.append(k.ljust(first) + " | " + " | ".join(cells))
    for m in metrics:
        cells = [f"{r['metrics'][m]:.4f}".rjust(width) for r in records]
        lines.append(m.ljust(first) + " | " + " | ".join(cells))
    same_data = len({r["data_sha256"] for r in records}) == 1
    lines.append(f"same data (SHA-256): {same_data}")
    return "\n".join(lines)


def model_card(
    record: Mapping[str, Any], *, title: str, intended_use: str, limitations: Sequence[str],
    data_description: str,
) -> str:
    """A Markdown model card (after Mitchell et al., 2019) built from a run record.

    Sections: model details, intended use, training data (with its SHA-256), metrics, limitations,
    and how to reproduce (hyper-parameters and library versions).

    Raises:
        ValueError: an empty title, intended use or data description, or no limitation given.
    """
    for label, text in (("title", title), ("intended_use", intended_use), ("data_description", data_description)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"expected a non-empty {label}, got {text!r}")
    if isinstance(limitations, str) or not limitations:
        raise ValueError("expected a non-empty list of limitations: every model has some")
    missing = [k for k in RECORD_KEYS if k not in record]
    if missing:
        raise ValueError(f"expected a run record with keys {list(RECORD_KEYS)}, missing {missing}")
    hyper = "\n".join(f"| {k} | {json.dumps(v)} |" for k, v in sorted(record["hyperparameters"].items()))
    metrics = "\n".join(f"| {k} | {v:.4f} |" for k, v in sorted(record["metrics"].items()))
    versions = ", ".join(f"{k} {v}" for k, v in sorted(record["versions"].items()))
    return "\n".join([
        f"# Model card: {title}", "",
        "## Model details",
        f"- run: `{record['name']}`, trained {record['created']}",
        f"- libraries: {versions}", "",
        "## Intended use", intended_use.strip(), "",
        "## Training data", data_description.strip(),
        f"- SHA-256 of the data: `{record['data_sha256']}`", "",
        "## Metrics", "| metric | value |", "|---|---|", metrics, "",
        "## Limitations", *[f"- {item}" for item in limitations], "",
        "## How to reproduce", "| hyper-parameter | value |", "|---|---|", hyper, "",
    ])


# --- a tiny prediction server ------------------------------------------------------------------


class PredictionServer:
    """Serve ``predict`` on ``http://127.0.0.1:PORT`` with TensorFlow Serving's REST API, in a thread.

    - ``GET /v1/models/NAME`` answers the model's status (``{"model_version_status": [...]}``);
    - ``POST /v1/models/NAME:predict`` with ``{"instances": [...]}`` (the row format: a list with
      one entry per example) answers ``{"predictions": [...]}``;
    - a bad request gets status 400 and ``{"error": "..."}``, an unknown path 404.

    Use it as a context manager: the server starts on entering and is shut down (and its thread
    joined) on leaving, even after an error. ``port=0`` lets the OS pick a free port.

    Args:
        predict: called with a float32 array of shape (batch, ...); returns an array-like whose
            first dimension is the batch.
        model_name: the NAME in the URLs.
        host: the address to listen on (the default only accepts connections from this machine).
        port: the port (0: any free port).
    """

    def __init__(self, predict: Callable[[np.ndarray], Any], model_name: str, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        if not callable(predict):
            raise ValueError(f"expected predict to be a function, got {type(predict).__name__}")
        if not isinstance(model_name, str) or not model_name or any(c in model_name for c in "/: ?#"):
            raise ValueError(f"expected a model name without '/', ':', spaces, '?' or '#', got {model_name!r}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"expected port to be an int in [0, 65535], got {port!r}")
        self.predict, self.model_name, self.host, self.port = predict, model_name, host, port
        self.requests_served = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The model's base URL, ``http://127.0.0.1:PORT/v1/models/NAME``."""
        if self._server is None:
            raise RuntimeError("the server is not running: use it in a `with` block")
        return f"http://{self.host}:{self._server.server_address[1]}/v1/models/{self.model_name}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self
        status_path, predict_path = f"/v1/models/{self.model_name}", f"/v1/models/{self.model_name}:predict"

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep the notebook's output clean
                pass

            def _reply(self, code: int, body: Mapping[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path != status_path:
                    return self._reply(404, {"error": f"unknown path {self.path}; try GET {status_path}"})
                self._reply(200, {"model_version_status": [
                    {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]})

            def do_POST(self) -> None:
                if self.path != predict_path:
                    return self._reply(404, {"error": f"unknown path {self.path}; try POST {predict_path}"})
                length = int(self.headers.get("Content-Length") or 0)
                if length > _MAX_BODY:
                    return self._reply(413, {"error": f"request body of {length} bytes is over {_MAX_BODY}"})
                try:
                    body = json.loads(self.rfile.read(length) or b"null")
                except json.JSONDecodeError as err:
                    return self._reply(400, {"error": f"the body is not JSON: {err}"})
                if not isinstance(body, dict) or "instances" not in body:
                    return self._reply(400, {"error": 'expected a JSON object {"instances": [...]}'})
                instances = body["instances"]
                if not isinstance(instances, list) or not instances:
                    return self._reply(400, {"error": "expected 'instances' to be a non-empty list, one entry per example"})
                try:
                    batch = np.asarray(instances, dtype=np.float32)
                    outputs = np.asarray(outer.predict(batch))
                except Exception as err:  # a shape or type error in the request: report it, keep serving
                    return self._reply(400, {"error": f"{type(err).__name__}: {err}"})
                outer.requests_served += 1
                self._reply(200, {"predictions": outputs.tolist()})

        return Handler

    def __enter__(self) -> "PredictionServer":
        self._server = ThreadingHTTPServer((self.host, self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"serve-{self.model_name}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    @property
    def running(self) -> bool:
        """Whether the server thread is alive."""
        return self._thread is not None and self._thread.is_alive()


# --- figures -----------------------------------------------------------------------------------


def plot_histograms(
    histograms: Mapping[int, Any], title: str = "", xlabel: str = "value", log: bool = False, show: bool = True
) -> Any:
    """Histograms logged with ``tf.summary.histogram``, one curve per step, as TensorBoard draws them.

    Args:
        histograms: ``{step: array of shape (buckets, 3)}``, each row ``(left edge, right edge,
            count)`` — the tensor stored in the event file.
        log: draw the counts on a log scale (empty buckets are left out), so that a spike (the
            zeros of a ReLU) does not flatten the rest.

    Raises:
        ValueError: no histogram, or one whose shape is not (buckets, 3).
    """
    import matplotlib.pyplot as plt

    from course_lib.plots import finish_figure

    if not histograms:
        raise ValueError("expected at least one histogram, got none")
    for step, h in histograms.items():
        if np.ndim(h) != 2 or np.shape(h)[1] != 3:
            raise ValueError(f"step {step}: expected a histogram of shape (buckets, 3), got shape {np.shape(h)}")
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    steps = sorted(histograms)
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(steps)))
    for color, step in zip(colors, steps):
        h = np.asarray(histograms[step], dtype=float)
        centers = (h[:, 0] + h[:, 1]) / 2
        ax.plot(centers, h[:, 2], color=color, marker=".", label=f"epoch {step + 1}")
    if log:
        ax.set_yscale("log", nonpositive="mask")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count (log scale)" if log else "count")
    ax.legend(fontsize="small", ncol=2)
    if title:
        ax.set_title(title)
    return finish_figure(fig, show)


def plot_runs(runs: Mapping[str, Mapping[str, Sequence[float]]], metric: str, show: bool = True) -> Any:
    """One metric of several runs over the epochs (e.g. ``val_accuracy`` of two CSVLogger files).

    Args:
        runs: ``{run name: {metric: values per epoch}}``.

    Raises:
        ValueError: no run, or a run without ``metric``.
    """
    import matplotlib.pyplot as plt

    from course_lib.plots import finish_figure

    if not runs:
        raise ValueError("expected at least one run, got none")
    fig, ax = plt.subplots(figsize=(5.6, 3.4))
    for name, logs in runs.items():
        if metric not in logs:
            raise ValueError(f"run {name!r} has no {metric!r}; it has {sorted(logs)}")
        values = np.asarray(logs[metric], dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, marker=".", label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.legend()
    ax.set_title(f"{metric} of {len(runs)} runs")
    return finish_figure(fig, show)
