"""Checkers for the exercises of ``14_tools_and_deployment``.

Usage in the notebook::

    from course_lib import checks_14 as checks
    checks.serving_request(serving_request)

Every checker builds its own inputs (a local random generator, temporary files it removes), so it
never changes the global random state.
"""

from __future__ import annotations

import csv
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from course_lib.exercises import call_student, Case, ExerciseSet, Mistake, Wrong, compare_with_reference, describe

EXERCISES = ExerciseSet("14_tools_and_deployment")
summary = EXERCISES.summary


# --- Exercise 1: serving_request ---------------------------------------------------------------

def _serving_request(x: Any) -> str:
    x = np.asarray(x)
    batch = x[None] if x.ndim == 1 else x
    return json.dumps({"instances": batch.tolist()})


def _call_serving_request(student: Any, x: np.ndarray) -> Any:
    try:
        return call_student(student, (x,), name="serving_request")  # a fresh copy; changing it is named
    except TypeError as err:
        if "JSON serializable" in str(err):
            raise Wrong(f"serving_request({describe(x)}): json.dumps cannot write NumPy arrays or NumPy "
                        "floats; convert the array with x.tolist() first") from None
        raise


@EXERCISES.exercise(1, "a TensorFlow Serving request body")
def serving_request(student: Any) -> str:
    """``serving_request(x)`` -> the JSON text ``{"instances": [...]}`` with a batch dimension."""
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    rng = np.random.default_rng(14)
    cases = [rng.random(64, dtype=np.float32), rng.random((3, 64), dtype=np.float32),
             rng.random((1, 64), dtype=np.float32), rng.random(5, dtype=np.float32)]
    for x in cases:
        call = f"serving_request({describe(x)})"
        got = _call_serving_request(student, x)
        if isinstance(got, dict):
            raise Wrong(f"{call}: you returned a dict; return the JSON text that is sent, json.dumps(...)")
        if isinstance(got, bytes):
            raise Wrong(f"{call}: you returned bytes; return the JSON text (a str), json.dumps(...)")
        if not isinstance(got, str):
            raise Wrong(f"{call}: expected the JSON text (a str), got {describe(got)}")
        try:
            body = json.loads(got)
        except json.JSONDecodeError as err:
            raise Wrong(f"{call}: the text is not valid JSON ({err}); build it with json.dumps") from None
        if not isinstance(body, dict):
            raise Wrong(f"{call}: expected a JSON object {{\"instances\": [...]}}, got a JSON {type(body).__name__}")
        if "instances" not in body:
            if "inputs" in body:
                raise Wrong(f"{call}: 'inputs' is TF Serving's columnar format; the row format asked for uses "
                            "the key 'instances'")
            raise Wrong(f"{call}: TF Serving looks for the key 'instances'; your object has {sorted(body)}")
        extra = sorted(set(body) - {"instances", "signature_name"})
        if extra:
            raise Wrong(f"{call}: unexpected keys {extra}; the body is {{\"instances\": [...]}}")
        expected = x[None] if x.ndim == 1 else x
        try:
            got_array = np.asarray(body["instances"], dtype=float)
        except (TypeError, ValueError):
            raise Wrong(f"{call}: 'instances' must be a list of examples, each a list of numbers") from None
        if got_array.shape != expected.shape:
            if x.ndim == 1 and got_array.shape == x.shape:
                raise Wrong(f"{call}: the batch dimension is missing: one example must be sent as a list of "
                            "one example, [[...]], shape (1, n)")
            if x.ndim == 2 and got_array.shape == (1, *x.shape):
                raise Wrong(f"{call}: x is already a batch; wrapping it in another list gives shape "
                            f"(1, {x.shape[0]}, {x.shape[1]}): send x.tolist() as it is")
            raise Wrong(f"{call}: 'instances' has shape {got_array.shape}, expected {expected.shape} "
                        "(one entry per example)")
        if not np.array_equal(got_array.astype(np.float32), expected):
            raise Wrong(f"{call}: the numbers differ from x (max |difference| "
                        f"{np.abs(got_array - expected).max():.3g}); send them unrounded, x.tolist()")
    return f"correct on {len(cases)} cases"


# --- Exercise 2: final_metric ------------------------------------------------------------------

def _read_rows(path: Any) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _final_metric(path: Any, metric: str) -> float:
    return float(_read_rows(path)[-1][metric])


def _write_log(folder: Path, name: str, columns: list[str], rng: np.random.Generator, epochs: int) -> Path:
    path = folder / name
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", *columns])
        for epoch in range(epochs):
            # noisy, non-monotonic values, so the last epoch is neither the best nor the first
            writer.writerow([epoch, *[float(np.float32(rng.uniform(0.05, 0.95))) for _ in columns]])
    return path


def _column_mistake(path: Any, metric: str) -> float:  # the last column whose name *contains* metric
    row = _read_rows(path)[-1]
    return float(row[[k for k in row if metric in k][-1]])


def _fixed_index(path: Any, metric: str) -> float:  # column positions of the first file, hard-coded
    with open(path, newline="") as f:
        last = list(csv.reader(f))[-1]
    return float(last[["epoch", "accuracy", "loss", "val_accuracy", "val_loss"].index(metric)])


@EXERCISES.exercise(2, "read the final metric from a CSV log")
def final_metric(student: Any) -> str:
    """``final_metric(csv_path, metric)`` -> float value of ``metric`` in the last row of a CSVLogger file."""
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    rng = np.random.default_rng(2024)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain = _write_log(folder, "run.csv", ["accuracy", "loss", "val_accuracy", "val_loss"], rng, 6)
        with_lr = _write_log(folder, "run_lr.csv", ["accuracy", "learning_rate", "loss", "val_accuracy", "val_loss"],
                             rng, 4)
        cases = [Case((plain, "loss")), Case((plain, "val_accuracy")), Case((plain, "accuracy")),
                 Case((with_lr, "loss")), Case((with_lr, "val_loss"))]
        rows = {p: _read_rows(p) for p in (plain, with_lr)}
        mistakes = [
            Mistake(lambda p, m: float(rows[p][0][m]), "that is the first epoch's value; CSVLogger appends one row "
                    "per epoch, so the final value is in the last row"),
            Mistake(lambda p, m: rows[p][-1][m], "convert the text of the CSV cell to a number: float(...)"),
            Mistake(lambda p, m: max(float(r[m]) for r in rows[p]), "that is the best (largest) value over the "
                    "epochs; the exercise asks for the last epoch's"),
            Mistake(lambda p, m: min(float(r[m]) for r in rows[p]), "that is the smallest value over the "
                    "epochs; the exercise asks for the last epoch's"),
            Mistake(lambda p, m: float(np.mean([float(r[m]) for r in rows[p]])), "you averaged over the epochs; "
                    "the exercise asks for the last epoch's value"),
            Mistake(lambda p, m: float(rows[p][-2][m]), "that is the second-to-last epoch: the header is not a "
                    "data row; with csv.DictReader the last row is rows[-1]"),
            Mistake(_column_mistake, "you read another column whose name contains the metric (for 'loss', "
                    "'val_loss' also matches): select the column whose name *equals* metric"),
            Mistake(_fixed_index, "find the column by its name in the header: which columns a CSVLogger file has "
                    "depends on the metrics (here a learning_rate column moved the others)"),
        ]
        first = student(*cases[0].args)
        if isinstance(first, (str, bytes)):
            raise Wrong(f"{cases[0].show('final_metric')}: you returned the text {first!r}; convert the CSV "
                        "cell to a number: float(...)")
        return compare_with_reference(student, _final_metric, cases, mistakes, name="final_metric",
                                      rtol=0, atol=0)


# --- Exercise 3: bad_files ---------------------------------------------------------------------

def _entries(folder: Path) -> list[tuple[str, str]]:
    out = []
    for line in (Path(folder) / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, rel = line.split(maxsplit=1)
            out.append((digest, rel))
    return out


def _bad_files(folder: Any, read: Any = None, strip_star: bool = True, missing: str = "bad",
               want_bad: bool = True) -> list[str]:
    folder = Path(folder)
    read = read or (lambda p: p.read_bytes())
    out = []
    for digest, rel in _entries(folder):
        rel = rel.lstrip("*") if strip_star else rel
        path = folder / rel
        if not path.is_file():
            if missing == "raise":
                raise FileNotFoundError(path)
            if missing == "skip":
                continue
            ok = False
        else:
            ok = hashlib.sha256(read(path)).hexdigest() == digest
        if ok != want_bad:
            out.append(rel)
    return out


def _release(folder: Path, broken: bool) -> None:
    files = {
        "model.keras": bytes(range(256)) * 4,
        "data/train.csv": b"x,y\r\n0.5,1\r\n0.25,0\r\n",  # Windows line ends: text mode changes these bytes
        "MODEL_CARD.md": "# card\n\nThe model card.\n".encode(),
        "weights.bin": b"\x00\x01\x02\r\n\x03",
    }
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    digests = {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}
    lines = [f"{digests['model.keras']}  model.keras", f"{digests['data/train.csv']}  data/train.csv",
             f"{digests['weights.bin']} *weights.bin", f"{digests['MODEL_CARD.md']}  MODEL_CARD.md"]
    if broken:
        (folder / "model.keras").write_bytes(files["model.keras"][:-1] + b"\x00")  # one byte changed
        lines.insert(0, f"{hashlib.sha256(b'gone').hexdigest()}  vocab.txt")  # listed, never written
        (folder / "MODEL_CARD.md").write_text("# card\n\nThe model card, edited.\n")
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n", encoding="utf-8")


@EXERCISES.exercise(3, "find the files whose SHA-256 does not match")
def bad_files(student: Any) -> str:
    """``bad_files(folder)`` -> paths named in ``folder/SHA256SUMS`` that are missing or differ, in file order."""
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    with tempfile.TemporaryDirectory() as tmp:
        good, broken = Path(tmp) / "good", Path(tmp) / "broken"
        for folder, is_broken in ((good, False), (broken, True)):
            folder.mkdir()
            _release(folder, is_broken)
        cases = [Case((broken,)), Case((good,))]
        mistakes = [
            Mistake(lambda f: _bad_files(f, read=lambda p: p.read_text().encode()),
                    "read the files in binary mode (open(path, 'rb') or path.read_bytes()): text mode turns "
                    "'\\r\\n' into '\\n', so a good file's digest changes"),
            Mistake(lambda f: _bad_files(f, read=lambda p: str(p).encode()),
                    "you hashed the file's path; hash the file's bytes"),
            Mistake(lambda f: _bad_files(f, read=lambda p: p.name.encode()),
                    "you hashed the file's name; hash the file's bytes"),
            Mistake(lambda f: _bad_files(f, missing="raise"),
                    "a file listed but missing is a bad file: put it in the list instead of raising"),
            Mistake(lambda f: _bad_files(f, missing="skip"),
                    "a file listed but missing is a bad file too: include it"),
            Mistake(lambda f: _bad_files(f, strip_star=False),
                    "strip the '*' before a path: it only says the digest was computed in binary mode"),
            Mistake(lambda f: _bad_files(f, want_bad=False), "you listed the good files; list the bad ones"),
            Mistake(lambda f: sorted(_bad_files(f)), "keep the order of the SHA256SUMS file (don't sort)"),
            Mistake(lambda f: _bad_files(f, read=lambda p: p.read_bytes().upper()),
                    "hash the file's bytes exactly as they are"),
        ]
        try:
            return compare_with_reference(student, _bad_files, cases, mistakes, name="bad_files")
        except Wrong as wrong:
            if "expected shape" not in str(wrong) and "differ from the expected" not in str(wrong):
                raise
            for case in cases:  # a list of names: say which names were expected
                expected, got = _bad_files(*case.args), student(*case.args)
                if expected != got:
                    raise Wrong(f"{case.show('bad_files')}: expected {expected}, got {got!r}") from None
            raise


# --- Exercise 4: choose_model ------------------------------------------------------------------

def _accuracy(labels: Any, logits: Any) -> float:
    return float(np.mean(np.argmax(np.asarray(logits), axis=-1) == np.asarray(labels)))


def _choose_model(labels: Any, float_logits: Any, quant_logits: Any, tolerance: float) -> str:
    drop = _accuracy(labels, float_logits) - _accuracy(labels, quant_logits)
    return "quantized" if drop <= tolerance + 1e-12 else "float"


def _logits(rng: np.random.Generator, labels: np.ndarray, correct: int, classes: int = 10) -> np.ndarray:
    """Random logits whose argmax equals the label on exactly ``correct`` examples."""
    n = len(labels)
    logits = rng.normal(size=(n, classes)).astype(np.float32)
    right = np.zeros(n, bool)
    right[rng.permutation(n)[:correct]] = True
    for i in range(n):
        if right[i]:
            logits[i, labels[i]] = logits[i].max() + 1.0
        else:
            wrong = (labels[i] + 1 + rng.integers(classes - 1)) % classes
            logits[i, wrong] = max(logits[i].max(), logits[i, labels[i]]) + 1.0
    return logits


@EXERCISES.exercise(4, "choose the quantised or the float model")
def choose_model(student: Any) -> str:
    """``choose_model(labels, float_logits, quant_logits, tolerance)`` -> "quantized" if the drop <= tolerance."""
    rng = np.random.default_rng(4)
    n = 64  # accuracies are multiples of 1/64: exact in binary, so a drop equal to the tolerance is exact
    cases = []
    for float_ok, quant_ok, tol in [(60, 59, 0.03125), (60, 56, 0.03125), (56, 60, 0.015625), (60, 58, 0.03125),
                                    (32, 28, 0.1), (62, 62, 0.0), (60, 57, 0.03125)]:
        labels = rng.integers(10, size=n)
        cases.append(Case((labels, _logits(rng, labels, float_ok), _logits(rng, labels, quant_ok), tol)))

    def agreement(labels: Any, f: Any, q: Any, tol: float) -> str:
        same = float(np.mean(np.argmax(f, -1) == np.argmax(q, -1)))
        return "quantized" if same >= 1 - tol else "float"

    def relative(labels: Any, f: Any, q: Any, tol: float) -> str:
        fa = _accuracy(labels, f)
        return "quantized" if (fa - _accuracy(labels, q)) / fa <= tol + 1e-12 else "float"

    mistakes = [
        Mistake(lambda l, f, q, t: "quantized" if abs(_accuracy(l, f) - _accuracy(l, q)) <= t + 1e-12 else "float",
                "the quantised model may be *better* than the float one: only a drop larger than the tolerance "
                "rules it out, so don't take the absolute difference"),
        Mistake(lambda l, f, q, t: "quantized" if _accuracy(l, f) - _accuracy(l, q) < t - 1e-12 else "float",
                "a drop of exactly `tolerance` is allowed: compare with <=, not <"),
        Mistake(lambda l, f, q, t: "float" if _choose_model(l, f, q, t) == "quantized" else "quantized",
                "the answers are swapped: within the tolerance, choose the smaller, quantised model"),
        Mistake(relative, "the tolerance is in accuracy points (absolute): compare float_acc - quant_acc with it, "
                "not the drop divided by float_acc"),
        Mistake(lambda l, f, q, t: "quantized" if _accuracy(l, q) >= _accuracy(l, f) else "float",
                "the tolerance is ignored: a quantised model up to `tolerance` less accurate is still chosen"),
        Mistake(agreement, "compare each model's predictions with the labels (accuracy), not the two models "
                "with each other"),
        Mistake(lambda l, f, q, t: _choose_model(l, np.asarray(f).T, np.asarray(q).T, t),
                "take the argmax over the classes, axis=-1 (each row is one example's scores)"),
    ]
    return compare_with_reference(student, _choose_model, cases, mistakes, name="choose_model")


# --- Exercise 5: stream_reply ------------------------------------------------------------------

def _chunk(delta: Any, finish: Any = None, *, choices: bool = True) -> dict[str, Any]:
    return {"id": "chatcmpl-000001", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}] if choices else []}


def _sse(pieces: list[str], finish: str = "stop", *, newline: str = "\n", space: bool = True,
         comments: bool = False, usage: bool = False, done: bool = True, error: bool = False,
         role_content: bool = True, null_last: bool = False) -> str:
    """A chat-completions stream as a server writes it (the variations the SSE format allows)."""
    chunks = [_chunk({"role": "assistant", "content": ""} if role_content else {"role": "assistant"})]
    chunks += [_chunk({"content": p}) for p in pieces]
    if error:
        chunks.append({"error": {"message": "the model failed", "type": "server_error", "param": None, "code": None}})
    else:
        chunks.append(_chunk({"content": None} if null_last else {}, finish))
        if usage:
            chunk = _chunk(None, choices=False)
            chunk["usage"] = {"prompt_tokens": 5, "completion_tokens": len(pieces), "total_tokens": 5 + len(pieces)}
            chunks.append(chunk)
    prefix = "data: " if space else "data:"
    lines = []
    for i, chunk in enumerate(chunks):
        if comments and i % 2 == 0:
            lines += [": keep-alive", ""]
        lines += [prefix + json.dumps(chunk, ensure_ascii=False), ""]
    if done and not error:
        lines += [prefix + "[DONE]", ""]
    return newline.join(lines) + newline


def _stream_reply(text: str) -> tuple[str, str | None]:
    content, finish = [], None
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.startswith("data:"):
            continue
        data = line[5:][1:] if line[5:].startswith(" ") else line[5:]
        if data == "[DONE]":
            return "".join(content), finish
        chunk = json.loads(data)
        if "error" in chunk:
            raise ValueError(f"the stream carries an error: {chunk['error']}")
        for choice in chunk.get("choices") or []:
            piece = (choice.get("delta") or {}).get("content")
            if piece is not None:
                content.append(piece)
            if choice.get("finish_reason") is not None:
                finish = choice["finish_reason"]
    raise ValueError("the stream ended without data: [DONE]")


_STREAM_CASES = [  # (description, stream, expected answer or None for "raises ValueError")
    ("a plain stream", dict(pieces=["the", " dog", " sleeps", " ."]), ("the dog sleeps .", "stop")),
    ("lines ending in \\r\\n, with ': keep-alive' comments",
     dict(pieces=["a", " robot", " moves", " ."], newline="\r\n", comments=True), ("a robot moves .", "stop")),
    ("'data:' without a space", dict(pieces=["two", " cats", " wait", " ."], space=False), ("two cats wait .", "stop")),
    ("a usage chunk with \"choices\": [] before [DONE]", dict(pieces=["the", " truck"], finish="length", usage=True),
     ("the truck", "length")),
    ("a role chunk without content and a last delta of content null",
     dict(pieces=["every", " child", " sleeps", " ."], role_content=False, null_last=True),
     ("every child sleeps .", "stop")),
    ("an empty reply", dict(pieces=[]), ("", "stop")),
    ("pieces that contain 'data: [DONE]', a newline and Chinese",
     dict(pieces=["data: [DONE]", " 大模型", "\n", " ok"]), ("data: [DONE] 大模型\n ok", "stop")),
    ("an error event (the model failed mid-stream)", dict(pieces=["the", " dog"], error=True), None),
    ("a stream cut before [DONE]", dict(pieces=["the", " dog", " sleeps"], done=False), None),
]


@EXERCISES.exercise(5, "read a streamed chat reply")
def stream_reply(student: Any) -> str:
    """``stream_reply(text)`` -> ``(content, finish_reason)`` of a server-sent-events chat stream."""
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    for what, kwargs, expected in _STREAM_CASES:
        text = _sse(**kwargs)
        assert (_stream_reply(text) if expected is not None else expected) == expected
        call = f"stream_reply(<{what}>)"
        try:
            got = call_student(student, (text,), name="stream_reply")
        except Wrong:
            raise
        except json.JSONDecodeError as err:
            if expected is None:
                raise Wrong(f"{call}: you raised a JSON error ({err}); check the stream and raise a ValueError "
                            "that says what is wrong") from None
            doc = err.doc if isinstance(err.doc, str) else ""
            if "[DONE]" in doc[:12]:
                raise Wrong(f"{call}: data: [DONE] is not JSON: it marks the end of the stream, stop there") from None
            if not kwargs.get("space", True):
                raise Wrong(f"{call}: the JSON was cut at the wrong place ({doc[:12]!r}...): after 'data:' one "
                            "space is optional, so drop it only if it is there") from None
            raise Wrong(f"{call}: you tried to parse something that is not a chunk as JSON ({err}); only "
                        "'data:' lines carry chunks, and comment lines start with ':'") from None
        except IndexError as err:
            raise Wrong(f"{call}: IndexError ({err}): a chunk may have \"choices\": [] (the usage chunk); "
                        "skip chunks without choices") from None
        except (KeyError, TypeError, AttributeError) as err:
            if expected is None:
                raise Wrong(f"{call}: you raised {type(err).__name__} ({err}); an error event "
                            "{\"error\": ...} must raise ValueError") from None
            raise Wrong(f"{call}: {type(err).__name__} ({err}): a delta may lack 'content' or carry null; "
                        "the role chunk and the last chunk have no text") from None
        except ValueError:
            if expected is None:
                continue
            raise Wrong(f"{call}: you raised ValueError on a valid stream") from None
        if expected is None:
            hint = ("an error event {\"error\": ...} means the model failed" if kwargs.get("error")
                    else "without data: [DONE] the connection was cut and the reply is incomplete")
            raise Wrong(f"{call}: expected a ValueError, you returned {got!r:.80}: {hint}")
        if not (isinstance(got, tuple) and len(got) == 2):
            raise Wrong(f"{call}: expected the tuple (content, finish_reason), got {describe(got)}")
        content, finish = got
        want_content, want_finish = expected
        if not isinstance(content, str):
            raise Wrong(f"{call}: content must be a str, got {describe(content)}")
        if content != want_content:
            if "None" in content and "None" not in want_content:
                raise Wrong(f"{call}: the reply contains 'None': a delta's content can be null (None); skip it "
                            "instead of converting it to text")
            if "".join(content.split()) == "".join(want_content.split()):  # the right text, other white space
                if len(content) > len(want_content):
                    raise Wrong(f"{call}: got {content!r}, expected {want_content!r}: join the pieces with '', "
                                "not ' ' — the spaces between words are part of the pieces")
                raise Wrong(f"{call}: got {content!r}, expected {want_content!r}: keep each piece exactly as "
                            "it is, its leading space included (do not strip)")
            raise Wrong(f"{call}: expected the content {want_content!r}, got {content!r}")
        if finish != want_finish:
            if finish is None:
                raise Wrong(f"{call}: finish_reason None: take the last *non-null* finish_reason (the usage "
                            "chunk after it has none)")
            raise Wrong(f"{call}: expected finish_reason {want_finish!r}, got {finish!r}")
    return f"correct on {len(_STREAM_CASES)} streams"
