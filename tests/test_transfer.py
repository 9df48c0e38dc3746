"""Unit tests for course_lib.transfer (chapter 09)."""

import keras
import matplotlib
import numpy as np
import pytest

from course_lib.transfer import few_shot_indices, parameter_counts, plot_regimes, transfer_weights

matplotlib.use("Agg")


def _encoder(inputs=64, hidden=16, name="encoder"):
    return keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(hidden, name="hidden"),
                             keras.layers.Dense(4, name="embed")], name=name)


# --- few_shot_indices ---------------------------------------------------------------------------

def test_few_shot_indices_is_stratified_and_reproducible():
    labels = np.repeat(np.arange(5), 7).astype("int32")
    idx = few_shot_indices(labels, 3, seed=2)
    assert idx.shape == (15,) and len(set(idx)) == 15
    np.testing.assert_array_equal(labels[idx], np.repeat(np.arange(5), 3))
    np.testing.assert_array_equal(idx, few_shot_indices(labels, 3, seed=2))
    assert not np.array_equal(idx, few_shot_indices(labels, 3, seed=3))


def test_few_shot_indices_does_not_touch_global_state():
    np.random.seed(1)
    before = np.random.get_state()[1].copy()
    few_shot_indices(np.arange(10) % 2, 2)
    assert np.array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize(
    "labels, per_class, message",
    [
        (np.array([0, 0, 1]), 2, "class 1 has only 1 examples"),
        (np.zeros((2, 3), int), 1, "expected 1-D integer labels"),
        (np.array([0.0, 1.0]), 1, "expected 1-D integer labels"),
        (np.array([0, 1]), 0, "expected per_class to be an int >= 1"),
        (np.array([0, 1]), True, "expected per_class to be an int >= 1"),
    ],
)
def test_few_shot_indices_rejects_bad_input(labels, per_class, message):
    with pytest.raises(ValueError, match=message):
        few_shot_indices(labels, per_class)


# --- parameter_counts ---------------------------------------------------------------------------

def test_parameter_counts_follow_freezing():
    model = keras.Sequential([keras.Input((64,)), _encoder(), keras.layers.Dense(3, name="head")])
    enc = 64 * 16 + 16 + 16 * 4 + 4
    head = 4 * 3 + 3
    assert parameter_counts(model) == (enc + head, 0)
    model.get_layer("encoder").trainable = False
    assert parameter_counts(model) == (head, enc)
    model.get_layer("encoder").trainable = True
    model.get_layer("encoder").get_layer("hidden").trainable = False
    assert parameter_counts(model) == (enc + head - (64 * 16 + 16), 64 * 16 + 16)


def test_parameter_counts_batch_normalization_statistics_are_non_trainable():
    bn = keras.layers.BatchNormalization()
    bn.build((None, 5))
    assert parameter_counts(bn) == (10, 10)


def test_parameter_counts_rejects_non_layers_and_unbuilt_layers():
    with pytest.raises(ValueError, match="expected a Keras model or layer"):
        parameter_counts(np.zeros(3))
    with pytest.raises(ValueError, match="not built"):
        parameter_counts(keras.layers.Dense(3))


# --- transfer_weights ---------------------------------------------------------------------------

def test_transfer_by_name_into_another_architecture():
    src = _encoder()
    inputs = keras.Input((64,))
    h = keras.layers.Dense(16, name="hidden")(inputs)
    h = keras.layers.Dropout(0.5, name="dropout")(h)
    h = keras.layers.Dense(4, name="embed")(h)
    target = keras.Model(inputs, keras.layers.Dense(2, name="head")(h))
    head_before = target.get_layer("head").get_weights()
    assert transfer_weights(src, target) == ["hidden", "embed"]
    for name in ("hidden", "embed"):
        for a, b in zip(src.get_layer(name).get_weights(), target.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(head_before, target.get_layer("head").get_weights()):
        np.testing.assert_array_equal(a, b)


def test_transfer_finds_layers_of_nested_models():
    src = keras.Sequential([keras.Input((64,)), _encoder(), keras.layers.Dense(10, name="head")])
    target = _encoder()
    assert transfer_weights(src, target) == ["hidden", "embed"]


def test_transfer_with_names_copies_only_those():
    src, target = _encoder(), _encoder()
    assert transfer_weights(src, target, names=["embed"]) == ["embed"]
    assert not np.array_equal(src.get_layer("hidden").get_weights()[0], target.get_layer("hidden").get_weights()[0])


def test_shape_mismatch_raises_and_leaves_target_untouched():
    src, target = _encoder(hidden=16), _encoder(hidden=8)
    before = [w.copy() for w in target.get_weights()]
    with pytest.raises(ValueError, match=r"layer 'hidden': weight 0 \(kernel\) has shape \(64, 16\) in the source but \(64, 8\)"):
        transfer_weights(src, target)
    for a, b in zip(before, target.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_transfer_rejects_bad_requests():
    src = _encoder()
    with pytest.raises(ValueError, match="no layer names in common"):
        transfer_weights(src, keras.Sequential([keras.Input((64,)), keras.layers.Dense(4, name="other")]))
    with pytest.raises(ValueError, match="layer 'head' not found in the source"):
        transfer_weights(src, _encoder(), names=["head"])
    with pytest.raises(ValueError, match="expected a list of layer names"):
        transfer_weights(src, _encoder(), names="hidden")
    with pytest.raises(ValueError, match="expected a Keras model"):
        transfer_weights(np.zeros(2), src)
    no_bias = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, use_bias=False, name="hidden")])
    with pytest.raises(ValueError, match="the source has 2 weight arrays, the target 1"):
        transfer_weights(src, no_bias)


# --- plots --------------------------------------------------------------------------------------

def test_plot_regimes_returns_a_figure():
    fig = plot_regimes({"from scratch": 0.7, "fine-tuned": 0.8}, title="t", reference=0.9,
                       reference_label="all labels", show=False)
    assert fig is not None and len(fig.axes) == 1
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("results", [{}, {"a": 1.5}, [0.5]])
def test_plot_regimes_rejects_bad_results(results):
    with pytest.raises(ValueError):
        plot_regimes(results, show=False)


# --- pretrained_backbone --------------------------------------------------------------------------

def test_pretrained_backbone_offline_is_none_and_a_reason_not_an_exception(monkeypatch):
    import socket

    import keras

    from course_lib.transfer import pretrained_backbone

    seen = {}

    def no_network(**kwargs):
        seen["timeout"] = socket.getdefaulttimeout()
        seen.update(kwargs)
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: [Errno -2] Name or service not known")

    monkeypatch.setattr(keras.applications, "MobileNetV3Small", no_network)
    before = socket.getdefaulttimeout()
    model, message = pretrained_backbone("MobileNetV3Small", image_size=64, timeout_s=7)
    assert model is None and message.startswith("offline:") and "Name or service not known" in message
    assert seen["timeout"] == 7.0 and socket.getdefaulttimeout() == before  # bounded, then restored
    assert seen["weights"] == "imagenet" and seen["input_shape"] == (64, 64, 3) and seen["include_top"] is False


def test_pretrained_backbone_with_weights_is_frozen(monkeypatch):
    import keras

    from course_lib.transfer import pretrained_backbone

    def cached(**kwargs):  # as if the weights were in ~/.keras/models
        return keras.Sequential(
            [keras.Input(kwargs["input_shape"]), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(5)])

    monkeypatch.setattr(keras.applications, "EfficientNetB0", cached)
    model, message = pretrained_backbone("EfficientNetB0", image_size=32)
    assert model is not None and model.trainable is False and not model.trainable_weights
    assert "EfficientNetB0 with ImageNet weights" in message and "5 features" in message


@pytest.mark.parametrize("kwargs", [dict(name="ResNet50"), dict(name="mobilenetv3small"), dict(name=3),
                                   dict(image_size=31), dict(image_size=513), dict(image_size=96.0),
                                   dict(timeout_s=0), dict(timeout_s=float("nan")), dict(timeout_s=True)])
def test_pretrained_backbone_rejects_bad_arguments(kwargs):
    from course_lib.transfer import pretrained_backbone

    with pytest.raises(ValueError):
        pretrained_backbone(**kwargs)
