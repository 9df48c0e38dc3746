"""Checkers for the exercises of ``13_distributed_training``.

Usage in the notebook::

    from course_lib import checks_13 as checks
    checks.replica_loss(replica_loss)
"""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np

from course_lib.exercises import Case, ExerciseSet, Mistake, Wrong, compare_with_reference, describe

EXERCISES = ExerciseSet("13_distributed_training")
summary = EXERCISES.summary


# --- Exercise 1 ------------------------------------------------------------------------------

def _replica_loss(per_example_losses: np.ndarray, global_batch: int) -> float:
    return float(np.sum(per_example_losses) / global_batch)


@EXERCISES.exercise(1, "a replica's share of the loss")
def replica_loss(student: Any) -> str:
    """``replica_loss(per_example_losses, global_batch)`` -> sum of the replica's losses / global batch."""
    rng = np.random.default_rng(13)
    cases = [Case((rng.uniform(0.1, 3.0, size=b).astype("float32"), g)) for b, g in ((8, 32), (16, 32), (5, 20), (32, 32))]
    mistakes = [
        Mistake(lambda l, g: float(np.mean(l)), "you divided by the per-replica batch (np.mean): the "
                "replicas' losses are *summed*, so each must divide its sum by the global batch"),
        Mistake(lambda l, g: float(np.sum(l)), "no scaling: divide the sum of this replica's losses by the global batch"),
        Mistake(lambda l, g: float(np.mean(l) / (g // len(l))), "you took the mean and then divided by the number "
                "of replicas: the same value only when every replica's batch is equal — write sum / global_batch"),
        Mistake(lambda l, g: float(np.sum(l) / len(l) / g), "you divided twice: once by the per-replica batch, "
                "once by the global batch; divide the sum by the global batch only"),
    ]
    # mean / replicas equals the answer when all replicas' batches are equal: this last case is uneven.
    cases.append(Case((np.array([1.0, 2.0, 3.0], dtype="float32"), 8)))
    return compare_with_reference(student, _replica_loss, cases, mistakes, name="replica_loss")


# --- Exercise 2 ------------------------------------------------------------------------------

def _scaled_run(per_replica_batch: int, num_replicas: int, base_lr: float, base_batch: int) -> tuple[int, float]:
    global_batch = per_replica_batch * num_replicas
    return global_batch, base_lr * global_batch / base_batch


@EXERCISES.exercise(2, "global batch and scaled learning rate")
def scaled_run(student: Any) -> str:
    """``scaled_run(per_replica_batch, num_replicas, base_lr, base_batch)`` -> (global batch, scaled lr)."""
    cases = [Case((32, 4, 0.1, 32)), Case((64, 8, 0.05, 256)), Case((16, 2, 0.2, 64)), Case((128, 1, 0.4, 128))]
    mistakes = [
        Mistake(lambda p, n, lr, b: (p, lr * p / b), "you forgot the replicas: the global batch is "
                "per_replica_batch * num_replicas, and the rate scales with it"),
        Mistake(lambda p, n, lr, b: (p * n, lr * p / b), "you scaled the learning rate by the per-replica "
                "batch: the update averages over the *global* batch, so scale by global_batch / base_batch"),
        Mistake(lambda p, n, lr, b: (p * n, lr), "the learning rate is not scaled: multiply base_lr by "
                "global_batch / base_batch (linear scaling rule)"),
        Mistake(lambda p, n, lr, b: (p * n, lr * n), "you scaled by the number of replicas, which is right only "
                "when base_batch equals the per-replica batch: scale by global_batch / base_batch"),
        Mistake(lambda p, n, lr, b: (p * n, lr * b / (p * n)), "the ratio is upside down: a larger global batch "
                "takes a *larger* rate, base_lr * global_batch / base_batch"),
        Mistake(lambda p, n, lr, b: (p * n, float(lr * np.sqrt(p * n / b))), "that is the square-root rule; "
                "this exercise asks for the linear rule, base_lr * global_batch / base_batch"),
    ]
    return compare_with_reference(student, _scaled_run, cases, mistakes, name="scaled_run")


# --- Exercise 3 ------------------------------------------------------------------------------

def _cluster_steps(num_examples: int, per_replica_batch: int, replicas_per_worker: int, num_workers: int) -> int:
    return num_examples // (per_replica_batch * replicas_per_worker * num_workers)


@EXERCISES.exercise(3, "steps per epoch across workers")
def cluster_steps_per_epoch(student: Any) -> str:
    """``cluster_steps_per_epoch(n, per_replica, replicas_per_worker, workers)`` -> n // global batch."""
    cases = [Case((1197, 16, 2, 2)), Case((10000, 32, 4, 2)), Case((50000, 64, 8, 4)),
             Case((1024, 32, 2, 4)), Case((100, 64, 1, 2))]
    mistakes = [
        Mistake(lambda n, p, r, w: n // (p * r), "you forgot the workers: every worker's replicas take part "
                "in each step, so the global batch is per_replica * replicas_per_worker * num_workers"),
        Mistake(lambda n, p, r, w: n // p, "a step consumes a global batch, not one replica's batch: "
                "divide by per_replica * replicas_per_worker * num_workers"),
        Mistake(lambda n, p, r, w: n // (p * w), "you forgot the replicas of each worker: the global batch is "
                "per_replica * replicas_per_worker * num_workers"),
        Mistake(lambda n, p, r, w: -(-n // (p * r * w)), "the last partial global batch is dropped: round down"),
        Mistake(lambda n, p, r, w: n / (p * r * w), "a number of steps is an int: use //"),
    ]
    return compare_with_reference(student, _cluster_steps, cases, mistakes, name="cluster_steps_per_epoch")


# --- Exercise 4 ------------------------------------------------------------------------------

def _tf_config(hosts: list[str], worker: int) -> dict:
    return {"cluster": {"worker": list(hosts)}, "task": {"type": "worker", "index": worker}}


@EXERCISES.exercise(4, "a worker's TF_CONFIG")
def tf_config_for(student: Any) -> str:
    """``tf_config_for(hosts, worker)`` -> {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": worker}}."""
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    cases = [(["10.0.0.1:2222", "10.0.0.2:2222"], 1), (["10.0.0.1:2222", "10.0.0.2:2222"], 0),
             (["a:1", "b:2", "c:3", "d:4"], 2), (["127.0.0.1:20000"], 0)]
    for hosts, worker in cases:
        call = f"tf_config_for({hosts!r}, {worker})"
        got = student(copy.deepcopy(hosts), worker)
        if isinstance(got, str):
            try:
                got = json.loads(got)
            except ValueError:
                raise Wrong(f"{call}: returned a string that is not JSON; return a dict") from None
            raise Wrong(f"{call}: return the dict itself; `json.dumps` it only when you put it in os.environ")
        if not isinstance(got, dict) or set(got) != {"cluster", "task"}:
            raise Wrong(f"{call}: expected a dict with exactly the keys 'cluster' and 'task', got {describe(got)}")
        cluster, task = got["cluster"], got["task"]
        if not isinstance(cluster, dict) or not isinstance(task, dict):
            raise Wrong(f"{call}: 'cluster' and 'task' must be dicts")
        if "chief" in cluster or task.get("type") == "chief":
            raise Wrong(f"{call}: MultiWorkerMirroredStrategy here has only 'worker' tasks; worker 0 acts as the "
                        "chief by itself — use type 'worker' for every process")
        if set(cluster) != {"worker"}:
            raise Wrong(f"{call}: the cluster must map 'worker' to the list of addresses, got keys {sorted(cluster)}")
        if list(cluster["worker"]) != hosts:
            if list(cluster["worker"]) == [hosts[worker]]:
                raise Wrong(f"{call}: the cluster lists only this worker; it must list *every* worker, "
                            "the same list in the same order in every process")
            raise Wrong(f"{call}: cluster['worker'] must be the full list of hosts, in order")
        if task.get("type") != "worker":
            raise Wrong(f"{call}: task type must be 'worker', got {task.get('type')!r}")
        index = task.get("index")
        if isinstance(index, str):
            raise Wrong(f"{call}: the task index must be an int, got the string {index!r}")
        if index == worker + 1:
            raise Wrong(f"{call}: task index {index} is off by one: indices start at 0 (worker 0 is the chief)")
        if index != worker:
            raise Wrong(f"{call}: task index must be this worker's position in hosts, {worker}; got {index!r}")
        if set(task) != {"type", "index"}:
            raise Wrong(f"{call}: task should have exactly the keys 'type' and 'index', got {sorted(task)}")
    return f"correct on {len(cases)} cases"
