"""Tools and deployment (chapter 14): run records, fingerprints, model cards, a tiny prediction server.

- :func:`file_sha256` and :func:`array_fingerprint` identify a data file or the arrays a model saw;
- :func:`write_run_record`, :func:`load_run_record` and :func:`compare_runs` keep a small JSON record
  of a training run (hyper-parameters, metrics, library versions, a hash of the data) and compare runs;
- :func:`model_card` writes a Markdown model card from a run record;
- :class:`PredictionServer` serves a prediction function on 127.0.0.1 with TensorFlow Serving's REST
  API (``POST /v1/models/NAME:predict`` with ``{"instances": [...]}``), in a thread, for as long as a
  ``with`` block lasts;
- :func:`plot_histograms` and :func:`plot_runs` draw the chapter's figures (what TensorBoard's
  histogram and scalar dashboards show); :func:`plot_batching` draws static against continuous
  batching of a language-model server's requests.

The saving, exporting and converting themselves are done in the notebook, where they are taught.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import socket
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from course_lib._validate import check_arguments, check_path, check_str

__all__ = [
    "file_sha256", "array_fingerprint", "library_versions", "write_run_record", "load_run_record",
    "compare_runs", "model_card", "PredictionServer", "plot_histograms", "plot_runs", "plot_batching",
]

#: The keys every run record has.
RECORD_KEYS = ("name", "created", "hyperparameters", "metrics", "data_sha256", "versions", "notes")
_MAX_BODY = 10 * 1024 * 1024  # bytes: larger request bodies are refused (413)
_LISTEN_BACKLOG = 128  # connections the OS queues before the server accepts them (a burst of clients)


# --- fingerprints ------------------------------------------------------------------------------


def file_sha256(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """The hex SHA-256 of a file's bytes, read in binary chunks (like ``sha256sum``).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` is a folder, or ``chunk_size`` is not a positive int.
    """
    check_arguments(file_sha256, locals(), path="own", chunk_size="own")
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
            raise ValueError(f"arrays[{i}]: expected a numeric or string array, got dtype object")
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
        ValueError: an empty name, hyper-parameters that JSON cannot hold (NaN and inf included),
            metrics that are not finite numbers, or a data hash that is not a hex SHA-256.
    """
    check_arguments(write_run_record, locals(),
                    path="own", name="own", hyperparameters="own", metrics="own", data_sha256="own", notes="own")
    if not isinstance(hyperparameters, Mapping):
        raise ValueError(f"expected hyperparameters to be a dict, got {type(hyperparameters).__name__}")
    try:
        hyper = json.loads(json.dumps(dict(hyperparameters), allow_nan=False))
    except TypeError as err:
        raise ValueError(f"hyperparameters must be JSON values (str, int, float, bool, list, dict): {err}") from None
    except ValueError:
        raise ValueError(f"hyperparameters must be finite numbers (JSON has no NaN or inf), got "
                         f"{dict(hyperparameters)!r:.80}") from None
    check_path(path, "path")
    check_str(notes, "notes", empty=True)
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
    check_arguments(load_run_record, locals(), path="own")
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
    check_arguments(compare_runs, locals(), records="own", metrics="own")
    if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, (list, tuple)):
        raise ValueError(f"expected records to be a list of run records, got {type(records).__name__}")
    if len(records) < 2:
        raise ValueError(f"expected at least two run records to compare, got {len(records)}")
    for i, r in enumerate(records):
        missing = [k for k in RECORD_KEYS if not isinstance(r, Mapping) or k not in r]
        if missing:
            raise ValueError(f"records[{i}]: expected a run record with keys {list(RECORD_KEYS)}, missing {missing}")
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
    check_arguments(model_card, locals(),
                    record="own", title="own", intended_use="own", limitations="own", data_description="own")
    for label, text in (("title", title), ("intended_use", intended_use), ("data_description", data_description)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"expected a non-empty {label}, got {text!r}")
    if isinstance(limitations, str) or not isinstance(limitations, (list, tuple)) or not limitations:
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


class _Server(ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` with a listen backlog for bursts and no tracebacks on stderr."""

    request_queue_size = _LISTEN_BACKLOG  # the default, 5, drops connections under a burst of clients
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-request (reset, broken pipe, timeout) is not the server's fault:
        # the request is dropped quietly instead of printing a traceback into the notebook.
        pass


class _Server6(_Server):
    address_family = socket.AF_INET6


class _BadRequest(Exception):
    """A request the server refuses: an HTTP status and the message sent back as JSON."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _check_instances(instances: Any) -> None:
    """Raise :class:`_BadRequest` unless ``instances`` is nested lists of finite JSON numbers."""
    stack = [instances]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, bool) or not isinstance(item, (int, float)):
            what = "null" if item is None else type(item).__name__
            raise _BadRequest(400, f"expected 'instances' to hold only numbers, got {what} {item!r:.40}")
        elif not math.isfinite(item):
            raise _BadRequest(400, f"expected 'instances' to hold finite numbers, got {item!r}")


def _reject_constant(name: str) -> Any:
    raise _BadRequest(400, f"the body is not strict JSON: {name} is not a JSON number")


def _host_forms(host: str, port: int) -> set[str]:
    """The Host headers a request to this server may carry: its own address, or localhost, with the port."""
    names = {host.lower(), "localhost", "127.0.0.1", "[::1]"}
    if ":" in host:  # an IPv6 address is written in brackets in a Host header
        names.add(f"[{host.lower()}]")
    return {f"{name}:{port}" for name in names}


def _read_json_request(handler: BaseHTTPRequestHandler, max_body_bytes: int, read_timeout_s: float) -> Any:
    """Read a request's JSON body with the prediction server's rules; raise :class:`_BadRequest` if not.

    The rules (shared by :class:`PredictionServer` and ``chat_server.ChatServer``): the body must be
    ``application/json`` (415), carry a ``Content-Length`` (411; chunked bodies are refused), not exceed
    ``max_body_bytes`` (413, answered before anything is read), arrive within ``read_timeout_s`` (408),
    have as many bytes as announced (400), be UTF-8 (400) and strict JSON: no NaN or Infinity, no
    nesting deep enough to overflow the parser (400). An empty body reads as ``None``.
    """
    media_type = (handler.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise _BadRequest(415, f"expected Content-Type: application/json, got {media_type or 'none'!r:.80}")
    if handler.headers.get("Transfer-Encoding"):
        raise _BadRequest(411, "chunked bodies are not accepted: send a Content-Length header")
    raw_length = handler.headers.get("Content-Length")
    if raw_length is None:
        raise _BadRequest(411, "a Content-Length header is required")
    raw_length = raw_length.strip()
    if not (raw_length.isascii() and raw_length.isdigit()):
        raise _BadRequest(400, f"expected Content-Length to be a number of bytes >= 0, got {raw_length!r:.40}")
    length = int(raw_length)
    if length > max_body_bytes:
        raise _BadRequest(413, f"request body of {length} bytes is over {max_body_bytes}")
    try:
        data = handler.rfile.read(length)
    except (TimeoutError, socket.timeout):
        raise _BadRequest(408, f"the body did not arrive within {read_timeout_s:g} s") from None
    if len(data) != length:
        raise _BadRequest(400, f"the body has {len(data)} bytes, Content-Length said {length}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _BadRequest(400, f"the body is not UTF-8 text: {err}") from None
    try:
        return json.loads(text or "null", parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise _BadRequest(400, f"the body is not JSON: {err}") from None
    except RecursionError:
        raise _BadRequest(400, "the body is not JSON this server accepts: it is nested too deeply") from None


class _ThreadedServer:
    """The life cycle both local servers share (:class:`PredictionServer`, ``chat_server.ChatServer``):
    bind on ``host``/``port`` when entered, serve from a daemon thread, shut down and join when left.
    A subclass sets ``host``, ``port``, ``model_name`` and ``_thread_prefix`` and defines ``_handler``."""

    _thread_prefix = "serve"

    def __enter__(self) -> Any:
        server_class = _Server6 if ":" in self.host else _Server
        self._server = server_class((self.host, self.port), BaseHTTPRequestHandler, bind_and_activate=True)
        self._server.RequestHandlerClass = self._handler(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{self._thread_prefix}-{self.model_name}", daemon=True)
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


class PredictionServer(_ThreadedServer):
    """Serve ``predict`` on ``http://127.0.0.1:PORT`` with TensorFlow Serving's REST API, in a thread.

    - ``GET /v1/models/NAME`` answers the model's status (``{"model_version_status": [...]}``);
    - ``POST /v1/models/NAME:predict`` with ``{"instances": [...]}`` (the row format: a list with
      one entry per example) answers ``{"predictions": [...]}``;
    - a bad request gets a 4xx status and ``{"error": "..."}``: 400 (not JSON, not UTF-8, nested too
      deeply, an instance that is not a finite number, a bad ``Content-Length`` or ``Host``), 404
      (unknown path), 405 (another method), 408 (the body did not arrive within
      ``read_timeout_s``), 411 (no ``Content-Length``), 413 (a body over ``max_body_bytes``, refused
      before it is read), 415 (a ``Content-Type`` other than ``application/json``); predictions that
      JSON cannot carry (inf, NaN) get 500. Every reply is strict JSON, and the server keeps serving.

    Only requests whose ``Host`` header names this server (its host or ``localhost``, with its port)
    are answered, and only JSON bodies are accepted, so that a web page in a browser on this machine
    cannot send it requests (a cross-site form posts ``text/plain``; DNS rebinding sends another Host).

    Use it as a context manager: the server starts on entering and is shut down (and its thread
    joined) on leaving, even after an error. ``port=0`` lets the OS pick a free port.

    Args:
        predict: called with a float32 array of shape (batch, ...); returns an array-like whose
            first dimension is the batch.
        model_name: the NAME in the URLs.
        host: the address to listen on (the default, 127.0.0.1, only accepts connections from this
            machine); ``""`` (every interface) is refused.
        port: the port (0: any free port).
        max_body_bytes: the largest request body accepted, in [1, 1 GiB] (default 10 MiB).
        read_timeout_s: how long a connection may stay silent while a request is read, in
            (0, 3600] seconds (default 10).
    """

    def __init__(self, predict: Callable[[np.ndarray], Any], model_name: str, host: str = "127.0.0.1",
                 port: int = 0, *, max_body_bytes: int = _MAX_BODY, read_timeout_s: float = 10.0) -> None:
        if not callable(predict):
            raise ValueError(f"expected predict to be a function, got {type(predict).__name__}")
        if not isinstance(model_name, str) or not model_name or any(c in model_name for c in "/: ?#"):
            raise ValueError(f"expected a model name without '/', ':', spaces, '?' or '#', got {model_name!r}")
        if not isinstance(host, str):
            raise TypeError(f"expected host to be a str such as '127.0.0.1', got {type(host).__name__}")
        if not host.strip():
            raise ValueError("host='' would listen on every network interface, so any machine that can reach "
                             "this one could call the model: use host='127.0.0.1' (the default), or name the "
                             "interface explicitly (e.g. '0.0.0.0') if that is really what you want")
        if any(c in host for c in "/ []@?#"):
            raise ValueError(f"expected host to be an address or a name such as '127.0.0.1', got {host!r}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"expected port to be an int in [0, 65535], got {port!r}")
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int) or not 1 <= max_body_bytes <= 1 << 30:
            raise ValueError(f"expected max_body_bytes to be an int in [1, 2**30], got {max_body_bytes!r}")
        if (isinstance(read_timeout_s, bool) or not isinstance(read_timeout_s, (int, float))
                or not 0 < read_timeout_s <= 3600):
            raise ValueError(f"expected read_timeout_s to be a number of seconds in (0, 3600], got {read_timeout_s!r}")
        self.predict, self.model_name, self.host, self.port = predict, model_name, host, port
        self.max_body_bytes, self.read_timeout_s = max_body_bytes, float(read_timeout_s)
        self.requests_served = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The model's base URL, ``http://127.0.0.1:PORT/v1/models/NAME``."""
        if self._server is None:
            raise RuntimeError("the server is not running: use it in a `with` block")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._server.server_address[1]}/v1/models/{self.model_name}"

    def _handler(self, port: int) -> type[BaseHTTPRequestHandler]:
        outer = self
        status_path, predict_path = f"/v1/models/{self.model_name}", f"/v1/models/{self.model_name}:predict"
        hosts = _host_forms(self.host, port)

        class Handler(BaseHTTPRequestHandler):
            timeout = outer.read_timeout_s  # the socket's timeout: a silent client cannot hold a thread
            default_request_version = "HTTP/1.0"  # answer even a garbled request line with a status and headers

            def log_message(self, *args: Any) -> None:  # keep the notebook's output clean
                pass

            def _reply(self, code: int, body: Mapping[str, Any]) -> None:
                try:
                    data = json.dumps(body, allow_nan=False).encode()
                except ValueError:  # inf or NaN: JSON has no such numbers
                    code = 500
                    data = json.dumps({"error": "the model returned a non-finite number (inf or NaN), which JSON "
                                                "cannot carry; check the model and its inputs"}).encode()
                if code >= 400:
                    self.close_connection = True  # an unread body must not be taken for the next request
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if code >= 400:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)

            def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
                # http.server's own errors (a malformed request line, headers too long, a timeout) as JSON
                try:
                    self._reply(code, {"error": message or explain or self.responses.get(code, ("error",))[0]})
                except OSError:
                    self.close_connection = True

            def _check_host(self) -> None:
                host = (self.headers.get("Host") or "").strip().lower()
                if host not in hosts:
                    raise _BadRequest(400, f"the Host header {host!r:.80} does not name this server; "
                                           f"expected one of {sorted(hosts)}")

            def do_GET(self) -> None:
                try:
                    self._check_host()
                except _BadRequest as err:
                    return self._reply(err.code, {"error": err.message})
                if self.path != status_path:
                    return self._reply(404, {"error": f"unknown path {self.path}; try GET {status_path}"})
                self._reply(200, {"model_version_status": [
                    {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]})

            def _refuse_method(self) -> None:
                self._reply(405, {"error": f"method {self.command} is not allowed; use GET {status_path} "
                                           f"or POST {predict_path}"})

            do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method

            def _read_body(self) -> Any:
                self._check_host()
                if self.path != predict_path:
                    raise _BadRequest(404, f"unknown path {self.path}; try POST {predict_path}")
                return _read_json_request(self, outer.max_body_bytes, outer.read_timeout_s)

            def do_POST(self) -> None:
                try:
                    body = self._read_body()
                    if not isinstance(body, dict) or "instances" not in body:
                        raise _BadRequest(400, 'expected a JSON object {"instances": [...]}')
                    instances = body["instances"]
                    if not isinstance(instances, list) or not instances:
                        raise _BadRequest(400, "expected 'instances' to be a non-empty list, one entry per example")
                    _check_instances(instances)
                except _BadRequest as err:
                    return self._reply(err.code, {"error": err.message})
                try:
                    with np.errstate(over="ignore"):
                        batch = np.asarray(instances, dtype=np.float32)
                    if not np.all(np.isfinite(batch)):
                        return self._reply(400, {"error": "expected 'instances' to fit in float32 (|x| < 3.4e38)"})
                    outputs = np.asarray(outer.predict(batch))
                except Exception as err:  # a shape or type error in the request: report it, keep serving
                    return self._reply(400, {"error": f"{type(err).__name__}: {err}"})
                if outputs.dtype.kind not in "biuf":
                    return self._reply(500, {"error": f"the model returned {outputs.dtype} values, not numbers"})
                with outer._lock:
                    outer.requests_served += 1
                self._reply(200, {"predictions": outputs.tolist()})

        return Handler



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
    check_arguments(plot_histograms, locals(), log="own")
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
    check_arguments(plot_runs, locals(), metric="own")
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


def plot_batching(schedules: Mapping[str, Sequence[Sequence[int]]], slots: int, show: bool = True) -> Any:
    """Which request holds which batch slot at each decoding step: one panel per schedule (chapter 14).

    Each request is a bar from its first decoding step to the step after its last, in its slot's
    row; white space is an idle slot. The panel's title gives the schedule's length in steps and the
    share of slot-steps that did work.

    Args:
        schedules: ``{name: [(slot, start, end), ...]}``, one triple of ints per request, with
            ``0 <= slot < slots`` and ``0 <= start < end``.
        slots: the number of batch slots.

    Raises:
        ValueError: no schedule, an empty one, a malformed triple, a slot out of range, or two
            requests in one slot at the same step.
    """
    check_arguments(plot_batching, locals(), schedules="own")
    import matplotlib.pyplot as plt

    from course_lib.plots import finish_figure

    if not isinstance(schedules, Mapping) or not schedules:
        raise ValueError("expected schedules to be a non-empty dict {name: [(slot, start, end), ...]}")
    checked = {}
    for name, schedule in schedules.items():
        if isinstance(schedule, (str, bytes)) or not isinstance(schedule, Sequence) or not schedule:
            raise ValueError(f"schedules[{name!r}]: expected a non-empty list of (slot, start, end)")
        rows = []
        for item in schedule:
            if (not isinstance(item, Sequence) or len(item) != 3
                    or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in item)):
                raise ValueError(f"schedules[{name!r}]: expected (slot, start, end) ints, got {item!r:.60}")
            slot, start, end = (int(v) for v in item)
            if not 0 <= slot < slots or not 0 <= start < end:
                raise ValueError(f"schedules[{name!r}]: expected 0 <= slot < {slots} and 0 <= start < end, "
                                 f"got {(slot, start, end)}")
            rows.append((slot, start, end))
        for slot in range(slots):
            spans = sorted((s, e) for r, s, e in rows if r == slot)
            if any(s < e_prev for (_, e_prev), (s, _) in zip(spans, spans[1:])):
                raise ValueError(f"schedules[{name!r}]: two requests hold slot {slot} at the same step")
        checked[name] = rows
    fig, axes = plt.subplots(len(checked), 1, figsize=(7.2, 1.0 + 0.32 * slots * len(checked)), sharex=True,
                             squeeze=False)
    colors = plt.cm.tab10.colors
    for ax, (name, rows) in zip(axes[:, 0], checked.items()):
        steps = max(end for _, _, end in rows)
        busy = sum(end - start for _, start, end in rows)
        for i, (slot, start, end) in enumerate(rows):
            ax.broken_barh([(start, end - start)], (slot - 0.4, 0.8), color=colors[i % len(colors)],
                           edgecolor="white", linewidth=0.5)
        ax.set_ylim(-0.6, slots - 0.4)
        ax.set_yticks(range(slots))
        ax.set_ylabel("slot")
        ax.set_title(f"{name}: {steps} steps, slots busy {busy / (slots * steps):.0%}", fontsize="medium")
    axes[-1, 0].set_xlabel("decoding step")
    return finish_figure(fig, show)
