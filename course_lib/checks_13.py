"""Checkers for the exercises of ``13_distributed_training``.

Usage in the notebook::

    from course_lib import checks_13 as checks
    checks.replica_loss(replica_loss)
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from course_lib.exercises import Case, ExerciseSet, Mistake, Wrong, call_student, compare_with_reference, describe

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
    # (16, 2, 0.2, 64) and (48, 2, 0.1, 64): the batch ratio is not an integer (0.5, 1.5).
    cases = [Case((32, 4, 0.1, 32)), Case((64, 8, 0.05, 256)), Case((16, 2, 0.2, 64)), Case((128, 1, 0.4, 128)),
             Case((48, 2, 0.1, 64))]
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
        Mistake(lambda p, n, lr, b: (p * n, lr * (p * n // b)), "the batch ratio was rounded down to an integer "
                "(`//`): a global batch of 96 over a base batch of 64 is 1.5x, not 1x (and 32/64 is 0.5, not 0) — "
                "use `/`"),
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
        got = call_student(student, (hosts, worker), name="tf_config_for")  # fresh copies; changing one is named
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
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise Wrong(f"{call}: the task index must be an int, got {index!r} ({type(index).__name__})")
        if index == worker + 1:
            raise Wrong(f"{call}: task index {index} is off by one: indices start at 0 (worker 0 is the chief)")
        if index != worker:
            raise Wrong(f"{call}: task index must be this worker's position in hosts, {worker}; got {index!r}")
        if set(task) != {"type", "index"}:
            raise Wrong(f"{call}: task should have exactly the keys 'type' and 'index', got {sorted(task)}")
    return f"correct on {len(cases)} cases"


# --- Exercise 5 ------------------------------------------------------------------------------

def _zero_bytes(num_params: float, num_devices: int, stage: int) -> float:
    weights, grads, optimizer = 2.0, 2.0, 12.0  # bytes per parameter: fp16 weights and grads; fp32 master, m, v
    if stage >= 1:
        optimizer /= num_devices
    if stage >= 2:
        grads /= num_devices
    if stage >= 3:
        weights /= num_devices
    return float(num_params * (weights + grads + optimizer))


@EXERCISES.exercise(5, "memory per device: data parallelism and ZeRO")
def zero_bytes_per_device(student: Any) -> str:
    """``zero_bytes_per_device(num_params, num_devices, stage)`` -> bytes of model state on one device."""
    cases = [Case((7e9, 8, 0)), Case((7e9, 8, 1)), Case((7e9, 8, 2)), Case((7e9, 8, 3)),
             Case((1e9, 64, 1)), Case((1e9, 64, 2)), Case((125e6, 4, 3)), Case((1000, 1, 2)), Case((0, 16, 3)),
             Case((3e9, 3, 1)), Case((1e6, 3, 3)), Case((10, 3, 2))]  # 3 devices: shards that are not whole bytes
    mistakes = [
        Mistake(lambda p, n, s: 16.0 * p, "the stage changes nothing in your answer: plain data parallelism "
                "(stage 0) keeps all 16 B per parameter on every device, and each ZeRO stage shards more of them"),
        Mistake(lambda p, n, s: 16.0 * p / n, "you sharded everything at every stage: that is only stage 3; "
                "stage 1 shards the optimizer states, stage 2 also the gradients, stage 3 also the weights"),
        Mistake(lambda p, n, s: _zero_bytes(p, n, min(s + 1, 3)) if s > 0 else 16.0 * p, "your stages are off by "
                "one: stage 1 shards only the optimizer states (12 B), stage 2 adds the gradients, stage 3 the weights"),
        Mistake(lambda p, n, s: 12.0 * p if s == 0 else _zero_bytes(p, n, s) - 4.0 * p / n,
                "mixed-precision Adam keeps a float32 *master copy* of the weights next to m and v: 12 B of "
                "optimizer state per parameter (chapter 01's 2 + 2 + 12 = 16 B), all sharded from stage 1 on"),
        Mistake(lambda p, n, s: _zero_bytes(p, n, s) / 2 ** 30, "return bytes, not GiB"),
        Mistake(lambda p, n, s: _zero_bytes(p, n, s) / 1e9, "return bytes, not GB"),
        Mistake(lambda p, n, s: float(p * (16 // n)) if s == 3 else _zero_bytes(p, n, s),
                "integer division (`//`) rounds the shard down: use `/`"),
    ]
    return compare_with_reference(student, _zero_bytes, cases, mistakes, name="zero_bytes_per_device", rtol=1e-6, atol=1e-6)


# --- Exercise 6 ------------------------------------------------------------------------------

def _global_norm(replica_grads: list) -> float:
    summed = [np.sum([np.asarray(g[v], dtype="float64") for g in replica_grads], axis=0)
              for v in range(len(replica_grads[0]))]
    return float(np.sqrt(sum(np.sum(s ** 2) for s in summed)))


def _norms(arrays: list) -> list:
    return [float(np.sqrt(np.sum(np.asarray(a, dtype="float64") ** 2))) for a in arrays]


def _summed(replica_grads: list) -> list:
    return [np.sum([np.asarray(g[v], dtype="float64") for g in replica_grads], axis=0)
            for v in range(len(replica_grads[0]))]


@EXERCISES.exercise(6, "the global gradient norm after the all-reduce")
def allreduced_global_norm(student: Any) -> str:
    """``allreduced_global_norm(replica_grads)`` -> sqrt(sum over variables of ||sum over replicas g||^2)."""
    rng = np.random.default_rng(130)

    def grads(replicas: int, shapes: list) -> list:
        return [[rng.normal(size=s).astype("float32") for s in shapes] for _ in range(replicas)]

    cases = [
        Case((grads(2, [(3, 4), (4,)]),)),
        Case((grads(4, [(64, 32), (32,), (32, 10), (10,)]),)),
        Case(([[np.array([3.0, 0.0]), np.array([[0.0], [4.0]])]],)),  # one replica: the plain global norm, 5
        Case(([[np.array([1.0, -2.0])], [np.array([-1.0, 2.0])]],)),  # replicas that cancel: norm 0
        Case((grads(3, [(5,), (2, 2), (1,)]),)),
        Case(([[np.array([1.0]), np.array([1.0])], [np.array([1.0]), np.array([1.0])]],)),  # 2 vars: sqrt(8)
    ]
    mistakes = [
        Mistake(lambda rg: float(sum(_norms(_summed(rg)))), "that is the *sum* of the variables' norms, not the "
                "global norm: square every element of every variable, add them all, then take one square root"),
        Mistake(lambda rg: _global_norm([[np.asarray(a) / len(rg) for a in g] for g in rg]),
                "you averaged the replicas' gradients: each replica's gradient is already its share of the global "
                "mean (its loss was divided by the global batch), so the all-reduce *sums* them"),
        Mistake(lambda rg: float(np.sqrt(sum(n ** 2 for g in rg for n in _norms(g)))), "you combined the replicas' "
                "norms: the norm of a sum is not the norm of its parts — sum the replicas' gradients first "
                "(the all-reduce), then take the global norm"),
        Mistake(lambda rg: float(sum(_global_norm([g]) for g in rg)), "you added the replicas' norms: sum the "
                "gradients first (the all-reduce), then take one global norm"),
        Mistake(lambda rg: _global_norm(rg) ** 2, "that is the squared norm: take the square root"),
        Mistake(lambda rg: _global_norm(rg[:1]), "you used only the first replica: clipping must see the "
                "all-reduced gradient, the sum over every replica"),
        Mistake(lambda rg: float(max(_norms(_summed(rg)))), "that is the largest variable's norm; the global norm "
                "combines every variable: sqrt of the sum of all squared elements"),
    ]
    return compare_with_reference(student, _global_norm, cases, mistakes, name="allreduced_global_norm", rtol=1e-5, atol=1e-6)
