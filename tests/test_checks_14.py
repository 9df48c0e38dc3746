"""The chapter-14 checkers reject the typical mistakes with specific hints."""

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from nbutils import assert_rejects, load_tagged

from course_lib import checks_14 as checks


SOLUTIONS = load_tagged("14_tools_and_deployment")


# --- Exercise 1: serving_request ---------------------------------------------------------------

@pytest.mark.parametrize("wrong, hint", [
    (lambda x: json.dumps({"instances": np.asarray(x).tolist()}), "batch dimension is missing"),
    (lambda x: json.dumps({"instances": [np.asarray(x).tolist()]}), "already a batch"),
    (lambda x: json.dumps({"inputs": np.atleast_2d(x).tolist()}), "columnar format"),
    (lambda x: json.dumps({"data": np.atleast_2d(x).tolist()}), "looks for the key 'instances'"),
    (lambda x: json.dumps({"instances": np.atleast_2d(x)}), "x.tolist()"),
    (lambda x: {"instances": np.atleast_2d(x).tolist()}, "you returned a dict"),
    (lambda x: json.dumps({"instances": np.atleast_2d(x).tolist()}).encode(), "you returned bytes"),
    (lambda x: json.dumps({"instances": np.round(np.atleast_2d(x), 2).tolist()}), "unrounded"),
    (lambda x: json.dumps(np.atleast_2d(x).tolist()), "JSON object"),
    (lambda x: str({"instances": np.atleast_2d(x).tolist()}).replace("[", "(").replace("]", ")"), "not valid JSON"),
])
def test_serving_request_rejects(wrong, hint):
    assert_rejects(checks.serving_request, wrong, hint)


# --- Exercise 2: final_metric ------------------------------------------------------------------

def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("wrong, hint", [
    (lambda p, m: float(_rows(p)[0][m]), "first epoch"),
    (lambda p, m: _rows(p)[-1][m], "float(...)"),
    (lambda p, m: max(float(r[m]) for r in _rows(p)), "best (largest)"),
    (lambda p, m: float(np.mean([float(r[m]) for r in _rows(p)])), "averaged"),
    (lambda p, m: float(_rows(p)[-2][m]), "second-to-last"),
    (lambda p, m: float(_rows(p)[-1][[k for k in _rows(p)[-1] if m in k][-1]]), "*equals* metric"),
    (lambda p, m: float(list(csv.reader(open(p)))[-1][["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
                                                      .index(m)]), "by its name"),
])
def test_final_metric_rejects(wrong, hint):
    assert_rejects(checks.final_metric, wrong, hint)


# --- Exercise 3: bad_files ---------------------------------------------------------------------

def _lines(folder):
    for line in (Path(folder) / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            yield line.split(maxsplit=1)


def _text_mode(folder):
    folder = Path(folder)
    out = []
    for digest, rel in _lines(folder):
        rel = rel.lstrip("*")
        p = folder / rel
        if not p.exists() or hashlib.sha256(p.read_text().encode()).hexdigest() != digest:
            out.append(rel)
    return out


def _raises_on_missing(folder):
    folder = Path(folder)
    return [rel.lstrip("*") for digest, rel in _lines(folder)
            if hashlib.sha256((folder / rel.lstrip("*")).read_bytes()).hexdigest() != digest]


def _keeps_star(folder):
    folder = Path(folder)
    return [rel for digest, rel in _lines(folder)
            if not (folder / rel).exists() or hashlib.sha256((folder / rel).read_bytes()).hexdigest() != digest]


def _hash_path(folder):
    folder = Path(folder)
    return [rel.lstrip("*") for digest, rel in _lines(folder)
            if hashlib.sha256(str(folder / rel.lstrip("*")).encode()).hexdigest() != digest]


def _good_ones(folder):
    folder = Path(folder)
    return [rel.lstrip("*") for digest, rel in _lines(folder)
            if (folder / rel.lstrip("*")).exists()
            and hashlib.sha256((folder / rel.lstrip("*")).read_bytes()).hexdigest() == digest]


@pytest.mark.parametrize("wrong, hint", [
    (_text_mode, "binary mode"),
    (_raises_on_missing, "instead of raising"),
    (_keeps_star, "strip the '*'"),
    (_hash_path, "hashed the file's path"),
    (_good_ones, "listed the good files"),
    (lambda f: sorted(SOLUTIONS["bad_files"](f)), "don't sort"),
    (lambda f: [], "expected 3 items, got 0"),
    (lambda f: [Path(f) / rel for rel in SOLUTIONS["bad_files"](f)], "item [0]: expected '"),
])
def test_bad_files_rejects(wrong, hint):
    """An unrecognised wrong list (too short, or full paths instead of the names) is described item by
    item, never blamed on the student's code."""
    assert_rejects(checks.bad_files, wrong, hint)
    assert "raised" not in checks.bad_files.evaluate(wrong).message


# --- Exercise 4: choose_model ------------------------------------------------------------------

def _acc(labels, logits):
    return np.mean(np.argmax(logits, axis=-1) == labels)


@pytest.mark.parametrize("wrong, hint", [
    (lambda l, f, q, t: "quantized" if abs(_acc(l, f) - _acc(l, q)) <= t else "float", "absolute difference"),
    (lambda l, f, q, t: "quantized" if _acc(l, f) - _acc(l, q) < t else "float", "not <"),
    (lambda l, f, q, t: "float" if _acc(l, f) - _acc(l, q) <= t else "quantized", "swapped"),
    (lambda l, f, q, t: "quantized" if (_acc(l, f) - _acc(l, q)) / _acc(l, f) <= t else "float", "absolute"),
    (lambda l, f, q, t: "quantized" if _acc(l, q) >= _acc(l, f) else "float", "tolerance is ignored"),
    (lambda l, f, q, t: "quantized" if np.mean(np.argmax(f, 1) == np.argmax(q, 1)) >= 1 - t else "float",
     "with the labels"),
    (lambda l, f, q, t: "quantized" if np.mean(np.argmax(f, 0) == l) - np.mean(np.argmax(q, 0) == l) <= t
     else "float", "axis=-1"),
])
def test_choose_model_rejects(wrong, hint):
    assert_rejects(checks.choose_model, wrong, hint)


# --- Exercise 5: stream_reply ------------------------------------------------------------------

def _data_lines(text):
    """The payloads of the 'data: ' lines (the usual, sloppy parse: a space is assumed)."""
    return [line[6:] for line in text.splitlines() if line.startswith("data: ")]


def _no_done(text):  # parses [DONE] as JSON
    content, finish = [], None
    for data in _data_lines(text):
        choice = json.loads(data)["choices"][0]
        content.append(choice["delta"].get("content") or "")
        finish = choice["finish_reason"] or finish
    return "".join(content), finish


def _reply_parser(join=lambda pieces: "".join(pieces), piece=lambda p: p, last_finish=False, skip_empty=True,
                  none_as_text=False, check_error=True, check_done=True, strip_prefix="smart", strict_choices=False):
    def parse(text):
        content, finish, done = [], None, False
        for line in text.splitlines():
            if not line.startswith("data:"):
                continue
            data = line[strip_prefix:] if strip_prefix != "smart" else line[5:].lstrip(" ")
            if data.strip() == "[DONE]":
                done = True
                break
            chunk = json.loads(data)
            if check_error and "error" in chunk:
                raise ValueError("error")
            choices = ([chunk["choices"][0]] if not skip_empty else chunk["choices"] if strict_choices
                       else chunk.get("choices") or [])
            for choice in choices:
                value = choice["delta"].get("content")
                if value is not None or none_as_text:
                    content.append(piece(str(value) if none_as_text else value))
                if last_finish:
                    finish = choice["finish_reason"]
                elif choice["finish_reason"] is not None:
                    finish = choice["finish_reason"]
            if last_finish and not chunk.get("choices"):
                finish = None
        if check_done and not done:
            raise ValueError("cut")
        return join(content), finish
    return parse


@pytest.mark.parametrize("wrong, hint", [
    (_no_done, "[DONE] is not JSON"),
    (_reply_parser(skip_empty=False), "choices\": []"),
    (_reply_parser(none_as_text=True), "contains 'None'"),
    (_reply_parser(join=" ".join, piece=str.strip), "join the pieces with ''"),
    (_reply_parser(piece=str.strip), "do not strip"),
    (_reply_parser(last_finish=True), "last *non-null* finish_reason"),
    (_reply_parser(check_error=False, check_done=False), "error event {\"error\": ...} means the model failed"),
    (_reply_parser(check_done=False), "connection was cut"),
    (_reply_parser(check_error=False, strict_choices=True), "must raise ValueError"),
    (_reply_parser(strip_prefix=6), "one space is optional"),
    (lambda text: "".join(_reply_parser()(text)), "tuple (content, finish_reason)"),
])
def test_stream_reply_rejects(wrong, hint):
    assert_rejects(checks.stream_reply, wrong, hint)


def test_stream_reply_accepts_the_library_parser():
    """A solution built on chat_server.sse_events (the event-level parse) is accepted too."""
    from course_lib import chat_server

    def via_events(text):
        content, finish = "", None
        events = chat_server.sse_events(text)
        if "[DONE]" not in events:
            raise ValueError("cut")
        for event in events[:events.index("[DONE]")]:
            chunk = json.loads(event)
            if "error" in chunk:
                raise ValueError(chunk["error"]["message"])
            for choice in chunk["choices"]:
                content += choice["delta"].get("content") or ""
                finish = choice["finish_reason"] or finish
        return content, finish

    assert checks.stream_reply.evaluate(via_events).passed
    assert checks.stream_reply.evaluate(SOLUTIONS["stream_reply"]).passed
