"""ResumableDropout keeps Dropout's random state through save/restore, so resumed runs are exact."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.fault_tolerance import ResumableDropout, seed_states
from course_lib.multiworker_worker import build_model, global_batches


def _model(dropout_cls, seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="tanh", name="hidden"),
                              dropout_cls(0.3, name="drop"), keras.layers.Dense(10, name="scores")])
    model.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _data():
    x, y = global_batches(32, 4)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(32)  # fixed order: 4 steps per epoch


def _max_diff(a, b):
    return max(float(np.max(np.abs(u - v))) for u, v in zip(a, b))


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt  # the process "dies" after epoch 2, its backup written


def _resumed_gap(dropout_cls, tmp_path):
    reference = _model(dropout_cls)
    reference.fit(_data(), epochs=4, verbose=0)
    first = _model(dropout_cls)
    with pytest.raises(KeyboardInterrupt):
        first.fit(_data(), epochs=4, verbose=0,
                  callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path)), _Interrupt()])
    resumed = _model(dropout_cls)  # a new process would build the model afresh, too
    resumed.fit(_data(), epochs=4, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path))])
    return _max_diff(resumed.get_weights(), reference.get_weights()), seed_states(resumed), seed_states(reference)


def test_resumed_run_with_resumable_dropout_is_identical(tmp_path):
    gap, resumed, reference = _resumed_gap(ResumableDropout, tmp_path)
    assert gap == 0.0
    assert np.array_equal(resumed["drop"], reference["drop"]) and reference["drop"][1] == 16  # 4 epochs x 4 steps


def test_resumed_run_with_plain_dropout_differs(tmp_path):
    gap, resumed, reference = _resumed_gap(keras.layers.Dropout, tmp_path)
    assert gap > 1e-3  # the masks of epochs 3-4 repeat those of epochs 1-2
    assert resumed["drop"][1] == 8 and reference["drop"][1] == 16


def test_draws_the_same_masks_as_dropout():
    x = np.ones((4, 50), "float32")
    masks = []
    for cls in (keras.layers.Dropout, ResumableDropout):
        keras.utils.set_random_seed(3)
        layer = cls(0.5)
        masks.append([keras.ops.convert_to_numpy(layer(x, training=True)) for _ in range(3)])
    assert all(np.array_equal(a, b) for a, b in zip(*masks))
    assert not np.array_equal(masks[0][0], masks[0][1])


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_weights_file_and_keras_file_carry_the_state(tmp_path):
    model = _model(ResumableDropout)
    model.fit(_data(), epochs=1, verbose=0)
    state = seed_states(model)["drop"]
    assert state[1] == 4
    model.save_weights(tmp_path / "w.weights.h5")
    fresh = _model(ResumableDropout)
    assert seed_states(fresh)["drop"][1] == 0
    fresh.load_weights(tmp_path / "w.weights.h5")
    assert np.array_equal(seed_states(fresh)["drop"], state)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.get_layer("drop"), ResumableDropout)
    assert np.array_equal(seed_states(loaded)["drop"], state)


def test_loads_a_file_written_with_plain_dropout(tmp_path):
    plain = _model(keras.layers.Dropout, seed=1)
    plain.save_weights(tmp_path / "plain.weights.h5")
    model = _model(ResumableDropout)
    before = seed_states(model)["drop"]
    model.load_weights(tmp_path / "plain.weights.h5")
    assert _max_diff(model.get_weights(), plain.get_weights()) == 0.0
    assert np.array_equal(seed_states(model)["drop"], before)


def test_bad_saved_state_is_a_clear_error():
    layer = ResumableDropout(0.5, name="drop")
    with pytest.raises(ValueError, match=r"layer 'drop': expected a saved seed state of shape \(2,\), got shape \(3,\)"):
        layer.load_own_variables({"seed_generator_state": np.zeros(3, "uint32")})


def test_seed_states_validates_and_finds_nested_layers():
    with pytest.raises(ValueError, match="expected a keras.Model, got Dense"):
        seed_states(keras.layers.Dense(2))
    inner = keras.Sequential([keras.Input((4,)), ResumableDropout(0.1, name="inner_drop")], name="inner")
    outer = keras.Sequential([keras.Input((4,)), inner, keras.layers.Dropout(0.2, name="outer_drop")])
    assert set(seed_states(outer)) == {"inner_drop", "outer_drop"}
    assert seed_states(build_model(0)) == {}


@pytest.mark.parametrize("rate", [-0.1, 1.0, "0.5", True])
def test_build_model_validates_dropout(rate):
    with pytest.raises(ValueError, match=r"expected dropout to be a rate in \[0, 1\)"):
        build_model(0, rate)


def test_build_model_with_dropout():
    model = build_model(0, 0.25)
    assert isinstance(model.get_layer("dropout"), ResumableDropout)
    assert model.get_layer("dropout").rate == 0.25
    assert [w.shape for w in model.get_weights()] == [w.shape for w in build_model(0).get_weights()]
