"""Unit tests for course_lib.deployment: fingerprints, run records, model cards, the prediction server."""

import hashlib
import json
import urllib.error
import urllib.request

import numpy as np
import pytest

from course_lib import deployment

_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _call(url, body=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with _LOCAL.open(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


# --- fingerprints ------------------------------------------------------------------------------

def test_file_sha256_matches_hashlib_and_reads_binary(tmp_path):
    data = b"line one\r\nline two\r\n" * 1000
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    assert deployment.file_sha256(path) == hashlib.sha256(data).hexdigest()
    assert deployment.file_sha256(path, chunk_size=7) == hashlib.sha256(data).hexdigest()


def test_file_sha256_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        deployment.file_sha256(tmp_path / "missing.bin")
    with pytest.raises(ValueError, match="expected a file, got the folder"):
        deployment.file_sha256(tmp_path)
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(ValueError, match="chunk_size"):
        deployment.file_sha256(tmp_path / "f", chunk_size=0)


def test_array_fingerprint_sees_values_dtype_and_shape():
    x = np.arange(12, dtype=np.float32)
    base = deployment.array_fingerprint(x, np.arange(3))
    assert base == deployment.array_fingerprint(x.copy(), np.arange(3))
    assert len(base) == 64
    changed = x.copy()
    changed[5] += 1e-3
    assert deployment.array_fingerprint(changed, np.arange(3)) != base
    assert deployment.array_fingerprint(x.reshape(3, 4), np.arange(3)) != base
    assert deployment.array_fingerprint(x.astype(np.float64), np.arange(3)) != base
    assert deployment.array_fingerprint(np.arange(3), x) != base  # order matters
    # a non-contiguous view hashes like its contiguous copy
    m = np.arange(20.0).reshape(4, 5)
    assert deployment.array_fingerprint(m[:, ::2]) == deployment.array_fingerprint(np.ascontiguousarray(m[:, ::2]))


def test_array_fingerprint_bad_input():
    with pytest.raises(ValueError, match="at least one array"):
        deployment.array_fingerprint()
    with pytest.raises(ValueError, match="dtype object"):
        deployment.array_fingerprint(np.array([{"a": 1}], dtype=object))


# --- run records -------------------------------------------------------------------------------

SHA = "a" * 64


def _record(tmp_path, name="run_a", lr=0.01, acc=0.95, data=SHA):
    return deployment.write_run_record(tmp_path / f"{name}.json", name=name, data_sha256=data,
                                       hyperparameters={"learning_rate": lr, "epochs": 10, "layers": [64, 10]},
                                       metrics={"accuracy": np.float32(acc), "loss": 0.2})


def test_run_record_round_trip(tmp_path):
    written = _record(tmp_path)
    loaded = deployment.load_run_record(tmp_path / "run_a.json")
    assert loaded == written
    assert set(loaded) == set(deployment.RECORD_KEYS)
    assert set(loaded["versions"]) == {"python", "tensorflow", "keras", "numpy"}
    assert isinstance(loaded["metrics"]["accuracy"], float)
    assert loaded["created"].endswith("+00:00")


@pytest.mark.parametrize("kwargs, match", [
    ({"name": ""}, "non-empty run name"),
    ({"metrics": {}}, "non-empty dict of numbers"),
    ({"metrics": {"acc": "0.9"}}, "metric 'acc': expected a number, got str"),
    ({"metrics": {"loss": float("nan")}}, "expected a finite number"),
    ({"data_sha256": "abc"}, "64 lowercase hex digits"),
    ({"hyperparameters": {"fn": object()}}, "JSON values"),
    ({"hyperparameters": [1, 2]}, "expected hyperparameters to be a dict"),
])
def test_write_run_record_bad_input(tmp_path, kwargs, match):
    args = dict(name="r", hyperparameters={"lr": 0.1}, metrics={"acc": 0.9}, data_sha256=SHA)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        deployment.write_run_record(tmp_path / "r.json", **args)


def test_load_run_record_bad_input(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a JSON run record"):
        deployment.load_run_record(tmp_path / "x.json")
    (tmp_path / "y.json").write_text('{"name": "y"}')
    with pytest.raises(ValueError, match="missing"):
        deployment.load_run_record(tmp_path / "y.json")


def test_compare_runs_shows_differing_hyperparameters_and_metrics(tmp_path):
    a, b = _record(tmp_path, "run_a", lr=0.01, acc=0.95), _record(tmp_path, "run_b", lr=0.001, acc=0.85)
    table = deployment.compare_runs([a, b])
    lines = table.splitlines()
    assert "run_a" in lines[0] and "run_b" in lines[0]
    assert any(line.startswith("learning_rate") and "0.001" in line for line in lines)
    assert not any(line.startswith("epochs") for line in lines)  # the same in both: not shown
    assert any(line.startswith("accuracy") and "0.9500" in line and "0.8500" in line for line in lines)
    assert lines[-1] == "same data (SHA-256): True"
    c = _record(tmp_path, "run_c", data="b" * 64)
    assert deployment.compare_runs([a, c]).splitlines()[-1] == "same data (SHA-256): False"


def test_compare_runs_bad_input(tmp_path):
    a = _record(tmp_path)
    with pytest.raises(ValueError, match="at least two run records"):
        deployment.compare_runs([a])
    with pytest.raises(ValueError, match="has no metric 'f1'"):
        deployment.compare_runs([a, a], metrics=["f1"])


def test_model_card_has_the_sections_and_numbers(tmp_path):
    record = _record(tmp_path)
    card = deployment.model_card(record, title="digits", intended_use="teaching",
                                 limitations=["8x8 only"], data_description="scikit-learn digits")
    for heading in ("# Model card: digits", "## Intended use", "## Training data", "## Metrics",
                    "## Limitations", "## How to reproduce"):
        assert heading in card
    assert f"`{SHA}`" in card and "| accuracy | 0.9500 |" in card and "- 8x8 only" in card
    assert '| learning_rate | 0.01 |' in card


def test_model_card_bad_input(tmp_path):
    record = _record(tmp_path)
    kwargs = dict(title="t", intended_use="u", limitations=["l"], data_description="d")
    with pytest.raises(ValueError, match="non-empty title"):
        deployment.model_card(record, **{**kwargs, "title": " "})
    with pytest.raises(ValueError, match="limitations"):
        deployment.model_card(record, **{**kwargs, "limitations": []})
    with pytest.raises(ValueError, match="limitations"):
        deployment.model_card(record, **{**kwargs, "limitations": "none"})
    with pytest.raises(ValueError, match="missing"):
        deployment.model_card({"name": "x"}, **kwargs)


# --- the prediction server ---------------------------------------------------------------------

def _double(batch):
    if batch.ndim != 2:
        raise ValueError(f"expected a batch of shape (n, d), got shape {batch.shape}")
    return batch * 2


def test_server_answers_like_tf_serving_and_stops():
    with deployment.PredictionServer(_double, "twice") as server:
        assert server.running and server.url.startswith("http://127.0.0.1:")
        status, answer = _call(server.url)
        assert status == 200 and answer["model_version_status"][0]["state"] == "AVAILABLE"
        status, answer = _call(server.url + ":predict", {"instances": [[1.0, 2.5], [3.0, -1.0]]})
        assert status == 200 and answer == {"predictions": [[2.0, 5.0], [6.0, -2.0]]}
        assert server.requests_served == 1
    assert not server.running
    with pytest.raises(RuntimeError, match="not running"):
        server.url


@pytest.mark.parametrize("body, code, message", [
    ({"inputs": [[1.0]]}, 400, '{"instances": [...]}'),
    ({"instances": 3}, 400, "non-empty list"),
    ({"instances": []}, 400, "non-empty list"),
    ({"instances": [1.0, 2.0]}, 400, "ValueError: expected a batch"),
    ({"instances": [[1.0], [2.0, 3.0]]}, 400, "ValueError"),
    (b"{oops", 400, "not JSON"),
])
def test_server_rejects_bad_requests_and_keeps_serving(body, code, message):
    with deployment.PredictionServer(_double, "twice") as server:
        status, answer = _call(server.url + ":predict", body)
        assert status == code and message in answer["error"], answer
        assert _call(server.url + ":predict", {"instances": [[1.0]]}) == (200, {"predictions": [[2.0]]})


def test_server_unknown_paths_are_404():
    with deployment.PredictionServer(_double, "twice") as server:
        base = server.url.rsplit("/v1/", 1)[0]
        assert _call(base + "/v1/models/other")[0] == 404
        assert _call(base + "/v1/models/other:predict", {"instances": [[1.0]]})[0] == 404


def test_server_stops_after_an_error_in_the_block():
    with pytest.raises(KeyError):
        with deployment.PredictionServer(_double, "twice") as server:
            raise KeyError("boom")
    assert not server.running


@pytest.mark.parametrize("kwargs, match", [
    ({"predict": 3}, "predict to be a function"),
    ({"model_name": "a/b"}, "model name"),
    ({"model_name": ""}, "model name"),
    ({"port": 70000}, "port"),
    ({"port": True}, "port"),
])
def test_server_bad_arguments(kwargs, match):
    args = {"predict": _double, "model_name": "m", **kwargs}
    with pytest.raises(ValueError, match=match):
        deployment.PredictionServer(**args)


# --- figures -----------------------------------------------------------------------------------

def test_plot_histograms_and_runs_return_figures():
    import matplotlib

    matplotlib.use("Agg")
    h = np.stack([np.linspace(0, 1, 5)[:-1], np.linspace(0, 1, 5)[1:], [1, 2, 3, 4]], axis=1)
    fig = deployment.plot_histograms({0: h, 1: h * [1, 1, 2]}, title="t", show=False)
    assert len(fig.axes[0].lines) == 2
    fig = deployment.plot_runs({"a": {"acc": [0.1, 0.5]}, "b": {"acc": [0.2, 0.6, 0.7]}}, "acc", show=False)
    assert len(fig.axes[0].lines) == 2 and fig.axes[0].get_ylabel() == "acc"


def test_plot_bad_input():
    with pytest.raises(ValueError, match="at least one histogram"):
        deployment.plot_histograms({})
    with pytest.raises(ValueError, match=r"shape \(buckets, 3\)"):
        deployment.plot_histograms({0: np.zeros((4, 2))})
    with pytest.raises(ValueError, match="at least one run"):
        deployment.plot_runs({}, "acc")
    with pytest.raises(ValueError, match="has no 'acc'"):
        deployment.plot_runs({"a": {"loss": [1.0]}}, "acc")


def test_plot_batching_draws_one_bar_per_request():
    import matplotlib

    matplotlib.use("Agg")
    schedules = {"static": [(0, 0, 5), (1, 0, 2), (0, 5, 7), (1, 5, 9)],
                 "continuous": [(0, 0, 5), (1, 0, 2), (1, 2, 4), (0, 5, 9)]}
    fig = deployment.plot_batching(schedules, 2, show=False)
    assert len(fig.axes) == 2 and [len(ax.collections) for ax in fig.axes] == [4, 4]
    assert fig.axes[0].get_title() == "static: 9 steps, slots busy 72%"  # 13 busy of 18 slot-steps
    assert fig.axes[1].get_title() == "continuous: 9 steps, slots busy 72%"


@pytest.mark.parametrize("schedules, slots, match", [
    ({}, 2, "non-empty dict"),
    ({"a": []}, 2, "non-empty list"),
    ({"a": [(0, 0)]}, 2, "ints"),
    ({"a": [(0, 0, 1.5)]}, 2, "ints"),
    ({"a": [(2, 0, 1)]}, 2, "0 <= slot < 2"),
    ({"a": [(0, 3, 3)]}, 2, "start < end"),
    ({"a": [(0, 0, 4), (0, 3, 5)]}, 2, "two requests hold slot 0"),
])
def test_plot_batching_bad_input(schedules, slots, match):
    with pytest.raises(ValueError, match=match):
        deployment.plot_batching(schedules, slots, show=False)
