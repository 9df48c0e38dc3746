"""launch(): two MultiWorkerMirroredStrategy workers on 127.0.0.1, a dead peer (at start and mid-training),
a timeout, a killed and resumed run — all bounded."""

import sys
import textwrap
import time

import numpy as np
import pytest

from course_lib.multiworker import WorkerError, WorkerTimeout, free_ports, launch, leftover_processes, make_tf_config
from course_lib.multiworker_worker import build_model, global_batches


def _no_worker_left(marker):
    return leftover_processes(marker)


def test_two_workers_train_like_one_device(tmp_path):
    import keras
    import tensorflow as tf

    start = time.monotonic()
    result = launch("course_lib.multiworker_worker", num_workers=2, timeout_s=150,
                    args=["--out", str(tmp_path), "--steps", "4", "--global-batch", "32"])
    assert time.monotonic() - start < 160
    assert "2 replicas in sync" in result.logs[1]
    assert (tmp_path / "model.keras").exists() and "saved model.keras" in result.logs[0]
    assert "saved" not in result.logs[1]
    w0, w1 = (np.load(tmp_path / f"weights_worker{i}.npz") for i in (0, 1))
    w0, w1 = ([w[f"arr_{k}"] for k in range(len(w.files))] for w in (w0, w1))
    assert all(np.array_equal(a, b) for a, b in zip(w0, w1))
    # the same global batches on one device
    x, y = global_batches(32, 4)
    model = build_model(0)
    start_w = [w.copy() for w in model.get_weights()]
    opt = keras.optimizers.SGD(0.1)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for i in range(4):
        with tf.GradientTape() as tape:
            loss = loss_fn(y[i * 32:(i + 1) * 32], model(x[i * 32:(i + 1) * 32]))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    assert max(float(np.abs(a - b).max()) for a, b in zip(model.get_weights(), start_w)) > 1e-3
    assert max(float(np.abs(a - b).max()) for a, b in zip(model.get_weights(), w0)) < 1e-5
    assert not _no_worker_left(str(tmp_path))


def test_dead_peer_is_a_clear_error_not_a_hang(tmp_path):
    start = time.monotonic()
    with pytest.raises(WorkerError, match=r"(?s)worker 1 exited with code 3.*simulated crash") as info:
        launch("course_lib.multiworker_worker", num_workers=2, timeout_s=50,
               args=["--out", str(tmp_path), "--crash", "1"])
    assert info.value.worker == 1
    assert time.monotonic() - start < 60
    assert not _no_worker_left(str(tmp_path))


def test_peer_dying_mid_training_is_a_clear_error_not_a_hang(tmp_path):
    start = time.monotonic()
    with pytest.raises(WorkerError, match=r"(?s)worker 1 was killed by signal 9.*SIGKILL\) after 2 steps") as info:
        launch("course_lib.multiworker_worker", num_workers=2, timeout_s=150, log_dir=tmp_path / "logs",
               args=["--out", str(tmp_path), "--steps", "6", "--global-batch", "32",
                     "--crash", "1", "--crash-after-steps", "2"])
    assert info.value.worker == 1
    # worker 0 had joined and was training; the error carries only each log's last lines, and worker 0
    # may already have printed the collective op's long traceback, so read its whole log
    assert "2 replicas in sync" in (tmp_path / "logs" / "worker_0.log").read_text(encoding="utf-8")
    assert not (tmp_path / "weights_worker0.npz").exists()  # ... and never finished
    assert time.monotonic() - start < 160
    assert not _no_worker_left(str(tmp_path))


def test_killed_run_resumes_to_the_uninterrupted_weights(tmp_path):
    import keras
    import tensorflow as tf

    job = ["--out", str(tmp_path), "--job", "resume", "--epochs", "4", "--steps", "4", "--global-batch", "32",
           "--lr", "0.01", "--dropout", "0.3"]
    start = time.monotonic()
    with pytest.raises(WorkerError, match=r"(?s)worker 0 was killed by signal 9.*SIGKILL after epoch 2"):
        launch("course_lib.multiworker_worker", num_workers=1, timeout_s=150, args=job + ["--kill-at-epoch", "2"])
    assert (tmp_path / "backup").is_dir()
    second = launch("course_lib.multiworker_worker", num_workers=1, timeout_s=150, args=job)
    epochs = [line.split(",")[0] for line in second.logs[0].splitlines() if line.startswith("epoch")]
    assert epochs == ["epoch 3 done", "epoch 4 done"]
    assert not (tmp_path / "backup").exists()  # BackupAndRestore removes it after a finished run
    assert time.monotonic() - start < 300
    # the same 4 epochs without interruption, here
    tf.config.experimental.enable_op_determinism()
    x, y = global_batches(32, 4)
    model = build_model(0, 0.3)
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(32), epochs=4, verbose=0)
    resumed = np.load(tmp_path / "weights_resume.npz")
    resumed = [resumed[f"arr_{k}"] for k in range(len(resumed.files))]
    assert max(float(np.abs(a - b).max()) for a, b in zip(model.get_weights(), resumed)) == 0.0


def test_timeout_kills_every_worker(tmp_path):
    script = tmp_path / "sleeper.py"
    script.write_text(textwrap.dedent("""
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # like a stuck collective: ignores SIGTERM
        print("sleeping", flush=True)
        time.sleep(600)
    """))
    start = time.monotonic()
    with pytest.raises(WorkerTimeout, match=r"(?s)bound of 3 s with worker\(s\) \[0, 1\] still running.*sleeping"):
        launch(script, num_workers=2, timeout_s=3)
    assert time.monotonic() - start < 30
    assert not _no_worker_left(str(script))


def test_one_worker_fails_other_succeeds(tmp_path):
    script = tmp_path / "half.py"
    script.write_text("import json, os, sys\nsys.exit(json.loads(os.environ['TF_CONFIG'])['task']['index'] * 5)\n")
    with pytest.raises(WorkerError, match="worker 1 exited with code 5"):
        launch(script, num_workers=2, timeout_s=30)


def test_tf_config_and_ports():
    ports = free_ports(3)
    assert len(set(ports)) == 3
    config = make_tf_config(["127.0.0.1:1000", "127.0.0.1:1001"], 1)
    assert config == {"cluster": {"worker": ["127.0.0.1:1000", "127.0.0.1:1001"]},
                      "task": {"type": "worker", "index": 1}}


@pytest.mark.parametrize("call, message", [
    (lambda: make_tf_config([], 0), "at least one worker address"),
    (lambda: make_tf_config(["localhost"], 0), "'host:port', got 'localhost'"),
    (lambda: make_tf_config(["a:1", "b:2"], 2), r"index to be an int in \[0, 1\], got 2"),
    (lambda: free_ports(0), "n to be an int >= 1"),
    (lambda: leftover_processes(""), "marker string of at least 3"),
    (lambda: launch("missing_file.py"), "does not exist"),
    (lambda: launch("not a module!"), "expected a .py file or a module name"),
    (lambda: launch(sys.executable.rstrip("/") + ".py", num_workers=0), "num_workers to be an int >= 1"),
    (lambda: launch("course_lib.multiworker_worker", timeout_s=0), "timeout_s to be a positive number"),
])
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_global_batches_validates():
    x, y = global_batches(16, 2)
    assert x.shape == (32, 64) and y.shape == (32,)
    with pytest.raises(ValueError, match="need 128000 examples"):
        global_batches(1000, 128)


def test_mwms_then_resume_in_one_launch(tmp_path):
    """--job mwms-resume (chapter 13): the MWMS run, then worker 1 trains without interruption while
    worker 0 backs up and kills itself after worker 1 has saved; nothing is left running."""
    job = ["--out", str(tmp_path), "--job", "mwms-resume", "--steps", "4", "--global-batch", "32",
           "--epochs", "3", "--kill-at-epoch", "2", "--dropout", "0.3"]
    with pytest.raises(WorkerError) as info:
        launch("course_lib.multiworker_worker", num_workers=2, timeout_s=150, args=job)
    assert info.value.worker == 0 and "killed by signal 9" in str(info.value)
    assert "simulated crash: SIGKILL after epoch 2" in info.value.logs[0]
    w0, w1 = np.load(tmp_path / "weights_worker0.npz"), np.load(tmp_path / "weights_worker1.npz")
    assert all(np.array_equal(w0[k], w1[k]) for k in w0.files) and (tmp_path / "model.keras").exists()
    uninterrupted = np.load(tmp_path / "uninterrupted.npz")
    assert int(uninterrupted["seed_dropout"][1]) == 3 * 4  # 3 epochs x 4 steps of Dropout masks
    assert sorted(p.name for p in (tmp_path / "backup").iterdir())
    assert _no_worker_left(str(tmp_path)) == []
