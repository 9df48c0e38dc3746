"""setup_notebook and its parts."""

import os
import sys

import pytest
import tensorflow as tf

import course_lib
from course_lib import environment


def test_setup_notebook_reports_and_returns_a_strategy(capsys):
    strategy = course_lib.setup_notebook(seed=3, cpu_replicas=2)
    out = capsys.readouterr().out
    assert isinstance(strategy, tf.distribute.Strategy)
    for key in ("tensorflow", "keras", "devices", "strategy", "seed"):
        assert key in out
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] in ("1", "2", "3")


def test_setup_notebook_quiet():
    assert course_lib.setup_notebook(seed=0, cpu_replicas=2, verbose=False) is not None


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_setup_notebook_rejects_bad_replicas(bad):
    with pytest.raises(ValueError, match="expected cpu_replicas to be an int >= 1"):
        course_lib.setup_notebook(cpu_replicas=bad)


@pytest.mark.parametrize("bad", [-1, "0", 1.0, False])
def test_set_seed_rejects_bad_seed(bad):
    with pytest.raises(ValueError, match="expected seed to be a non-negative int"):
        course_lib.set_seed(bad)


def test_seed_reproduces_random_numbers():
    course_lib.set_seed(5)
    a = tf.random.uniform((3,)).numpy()
    course_lib.set_seed(5)
    b = tf.random.uniform((3,)).numpy()
    assert (a == b).all()


def test_not_in_colab():
    assert not environment.in_colab()


def test_report_keys():
    report = environment.environment_report()
    assert report["backend"] == "tensorflow" and "CPU:0" in report["devices"]


def test_import_does_not_load_tensorflow():
    import subprocess
    import sys

    code = "import course_lib, sys; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_colab_extras_installs_only_what_is_missing(monkeypatch):
    calls = []
    monkeypatch.setattr(environment.importlib.util, "find_spec", lambda mod: None if mod == "gymnasium" else object())
    monkeypatch.setattr(environment.subprocess, "run", lambda cmd, check: calls.append(cmd))
    assert environment._install_colab_extras() == ["gymnasium>=1.0"]
    assert calls and calls[0][-1] == "gymnasium>=1.0" and "tensorboard>=2.19" not in calls[0]
    calls.clear()
    monkeypatch.setattr(environment.importlib.util, "find_spec", lambda mod: object())
    assert environment._install_colab_extras() == [] and calls == []


@pytest.mark.parametrize("value, default, expected", [("", 1, 1), ("2", 1, 2), ("2", 4, 4), (" 8 ", 1, 8)])
def test_replicas_from_environment_raises_to_at_least(monkeypatch, value, default, expected):
    monkeypatch.setenv(environment.REPLICAS_VARIABLE, value)
    assert environment.replicas_from_environment(default) == expected


@pytest.mark.parametrize("bad", ["0", "two", "-1", "1.5"])
def test_replicas_from_environment_rejects_bad_values(monkeypatch, bad):
    monkeypatch.setenv(environment.REPLICAS_VARIABLE, bad)
    with pytest.raises(ValueError, match="expected COURSE_CPU_REPLICAS to be a whole number >= 1"):
        environment.replicas_from_environment(1)


def test_quiet_tensorflow_keeps_cpp_errors_visible(monkeypatch):
    """Level 2 hides TF's C++ INFO and WARNING lines but keeps ERRORs (e.g. why no GPU was found)."""
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    environment._quiet_tensorflow()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2"


@pytest.mark.parametrize("installed, expected", [
    ("3.10.0", True), ("3.13.2", True), (None, True), ("3.14.0", False), ("3.15.1", False),
    ("3.14.0rc1", False), ("4.0.0", False), ("3.9.9+cu12", True),
])
def test_keras_needs_upgrade(installed, expected):
    assert environment.keras_needs_upgrade(installed) is expected


def test_colab_keras_upgrade_installs_keras_alone(monkeypatch):
    """On Colab an old Keras is upgraded with one pip call that names Keras only (never TensorFlow)."""
    from importlib import metadata

    calls, versions = [], iter(["3.10.0", "3.15.1"])
    monkeypatch.setattr(metadata, "version", lambda name: next(versions))
    monkeypatch.setattr(environment.subprocess, "run", lambda cmd, check: calls.append(cmd))
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    note = environment._upgrade_colab_keras()
    assert len(calls) == 1 and calls[0][-1] == "keras>=3.14,<4"
    assert not any("tensorflow" in part for part in calls[0])
    assert note == "keras 3.10.0 -> 3.15.1 (TensorFlow left as installed)"


def test_colab_keras_upgrade_does_nothing_when_recent(monkeypatch):
    from importlib import metadata

    monkeypatch.setattr(metadata, "version", lambda name: "3.15.1")
    monkeypatch.setattr(environment.subprocess, "run", lambda *a, **k: pytest.fail("pip was called"))
    assert environment._upgrade_colab_keras() is None
