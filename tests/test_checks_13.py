"""The chapter-13 checkers accept the worked solutions and reject the typical mistakes with hints."""

import json

import numpy as np
import pytest
from nbutils import assert_rejects as _rejects, load_tagged

from course_lib import checks_13 as checks

SOLUTIONS = load_tagged("13_distributed_training")
STUBS = load_tagged("13_distributed_training", tag="exercise", folder="notebooks")
NAMES = ["replica_loss", "scaled_run", "cluster_steps_per_epoch", "tf_config_for"]


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
