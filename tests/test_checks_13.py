"""The chapter-13 checkers accept the worked solutions and reject the typical mistakes with hints."""

import json

import numpy as np
import pytest
from nbutils import assert_rejects as _rejects, load_tagged

from course_lib import checks_13 as checks

SOLUTIONS = load_tagged("13_distributed_training")
STUBS = load_tagged("13_distributed_training", tag="exercise", folder="notebooks")
NAMES = ["replica_loss", "scaled_run", "cluster_steps_per_epoch", "tf_config_for", "zero_bytes_per_device",
         "allreduced_global_norm"]


@pytest.mark.parametrize("wrong, hint", [
    (lambda l, g: float(np.mean(l)), "per-replica batch"),
    (lambda l, g: float(np.sum(l)), "no scaling"),
    (lambda l, g: float(np.mean(l) / (g // len(l))), "number of replicas"),
    (lambda l, g: float(np.sum(l) / len(l) / g), "divided twice"),
])
def test_replica_loss_rejects(wrong, hint):
    _rejects(checks.replica_loss, wrong, hint)


@pytest.mark.parametrize("wrong, hint", [
    (lambda p, n, lr, b: (p, lr * p / b), "forgot the replicas"),
    (lambda p, n, lr, b: (p * n, lr * p / b), "by the per-replica batch"),
    (lambda p, n, lr, b: (p * n, lr), "not scaled"),
    (lambda p, n, lr, b: (p * n, lr * n), "number of replicas"),
    (lambda p, n, lr, b: (p * n, lr * b / (p * n)), "upside down"),
    (lambda p, n, lr, b: (p * n, lr * (p * n // b)), "rounded down to an integer"),
    (lambda p, n, lr, b: (p * n, float(lr * np.sqrt(p * n / b))), "square-root rule"),
])
def test_scaled_run_rejects(wrong, hint):
    _rejects(checks.scaled_run, wrong, hint)


@pytest.mark.parametrize("wrong, hint", [
    (lambda n, p, r, w: n // (p * r), "forgot the workers"),
    (lambda n, p, r, w: n // p, "global batch, not one replica's"),
    (lambda n, p, r, w: n // (p * w), "forgot the replicas of each worker"),
    (lambda n, p, r, w: -(-n // (p * r * w)), "round down"),
    (lambda n, p, r, w: n / (p * r * w), "is an int"),
])
def test_cluster_steps_rejects(wrong, hint):
    _rejects(checks.cluster_steps_per_epoch, wrong, hint)


def _config(hosts, index, task_type="worker", cluster=None):
    return {"cluster": cluster if cluster is not None else {"worker": hosts},
            "task": {"type": task_type, "index": index}}


@pytest.mark.parametrize("wrong, hint", [
    (lambda h, w: _config(h, w + 1), "off by one"),
    (lambda h, w: _config(h, w, "chief" if w == 0 else "worker"), "only 'worker' tasks"),
    (lambda h, w: _config(h, w, cluster={"worker": [h[w]]}), "lists only this worker"),
    (lambda h, w: _config(h, str(w)), "must be an int"),
    (lambda h, w: json.dumps(_config(h, w)), "return the dict itself"),
    (lambda h, w: _config(h, w, "ps"), "task type must be 'worker'"),
    (lambda h, w: _config(h, 0), "position in hosts"),
])
def test_tf_config_rejects(wrong, hint):
    _rejects(checks.tf_config_for, wrong, hint)


def _zero(p, n, s, weights=2.0, grads=2.0, optimizer=12.0, shift=0):
    s = min(s + shift, 3) if s > 0 else s
    return p * (weights / (n if s >= 3 else 1) + grads / (n if s >= 2 else 1) + optimizer / (n if s >= 1 else 1))


@pytest.mark.parametrize("right", [
    lambda p, n, s: _zero(p, n, s),
    lambda p, n, s: int(round(_zero(p, n, s))) if _zero(p, n, s) == int(_zero(p, n, s)) else _zero(p, n, s),
    lambda p, n, s: np.float32(_zero(p, n, s)) if p < 1e8 else _zero(p, n, s),
    lambda p, n, s: [16 * p, 4 * p + 12 * p / n, 2 * p + 14 * p / n, 16 * p / n][s],
])
def test_zero_bytes_accepts(right):
    result = checks.zero_bytes_per_device.evaluate(right)
    assert result.passed, result.message


@pytest.mark.parametrize("wrong, hint", [
    (lambda p, n, s: 16.0 * p, "the stage changes nothing"),
    (lambda p, n, s: 16.0 * p / n, "sharded everything at every stage"),
    (lambda p, n, s: _zero(p, n, s, shift=1), "off by one"),
    (lambda p, n, s: _zero(p, n, s, optimizer=8.0), "master copy"),
    (lambda p, n, s: _zero(p, n, s) / 2 ** 30, "not GiB"),
    (lambda p, n, s: _zero(p, n, s) / 1e9, "not GB"),
    (lambda p, n, s: p * (16 // n) if s == 3 else _zero(p, n, s), "integer division"),
])
def test_zero_bytes_rejects(wrong, hint):
    _rejects(checks.zero_bytes_per_device, wrong, hint)


def _gnorm(rg, combine=np.sum):
    summed = [combine([np.asarray(g[v], "float64") for g in rg], axis=0) for v in range(len(rg[0]))]
    return float(np.sqrt(sum(np.sum(s ** 2) for s in summed)))


@pytest.mark.parametrize("right", [
    _gnorm,
    lambda rg: float(np.linalg.norm(np.concatenate([np.ravel(sum(g[v] for g in rg)) for v in range(len(rg[0]))]))),
    lambda rg: float(__import__("tensorflow").linalg.global_norm(
        [__import__("tensorflow").constant(sum(np.asarray(g[v], "float32") for g in rg)) for v in range(len(rg[0]))])),
])
def test_global_norm_accepts(right):
    result = checks.allreduced_global_norm.evaluate(right)
    assert result.passed, result.message


@pytest.mark.parametrize("wrong, hint", [
    (lambda rg: float(sum(np.linalg.norm(np.ravel(sum(g[v] for g in rg))) for v in range(len(rg[0])))), "sum* of the variables' norms"),
    (lambda rg: _gnorm(rg, np.mean), "averaged the replicas' gradients"),
    (lambda rg: float(np.sqrt(sum(np.sum(np.asarray(a, "float64") ** 2) for g in rg for a in g))), "combined the replicas' norms"),
    (lambda rg: float(sum(_gnorm([g]) for g in rg)), "added the replicas' norms"),
    (lambda rg: _gnorm(rg) ** 2, "squared norm"),
    (lambda rg: _gnorm(rg[:1]), "only the first replica"),
    (lambda rg: float(max(np.linalg.norm(np.ravel(sum(g[v] for g in rg))) for v in range(len(rg[0])))), "largest variable"),
])
def test_global_norm_rejects(wrong, hint):
    _rejects(checks.allreduced_global_norm, wrong, hint)
