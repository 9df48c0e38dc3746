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
