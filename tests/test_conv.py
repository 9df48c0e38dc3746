"""Unit tests for course_lib.conv: the output-size rule (against Keras) and the plotting helpers."""

import itertools

import keras
import matplotlib
import numpy as np
import pytest

from course_lib.conv import conv_output_size, plot_feature_maps, plot_filtered, plot_kernels

matplotlib.use("Agg")


# --- conv_output_size --------------------------------------------------------------------------

@pytest.mark.parametrize(
    "args, expected",
    [
        ((28, 3), 26), ((28, 3, "same"), 28), ((28, 3, "valid", 2), 13), ((28, 3, "same", 2), 14),
        ((227, 11, "valid", 4), 55), ((224, 7, 3, 2), 112), ((10, 3, "valid", 1, 2), 6), ((8, 2, "same"), 8),
        ((7, 3, "same", 2), 4), ((5, 5), 1), ((6, 3, 0, 2), 2), ((1, 3, 1), 1),
    ],
)
def test_known_sizes(args, expected):
    got = conv_output_size(*args)
    assert got == expected and isinstance(got, int)


@pytest.mark.parametrize("n, k, s, d, padding", [
    c for c in itertools.product((5, 8, 9), (1, 2, 3, 4), (1, 2, 3), (1, 2), ("valid", "same"))
    if (c[2] == 1 or c[3] == 1) and (c[4] == "same" or c[3] * (c[1] - 1) + 1 <= c[0])
])
def test_matches_keras_conv_and_pooling(n, k, s, d, padding):
    x = np.zeros((1, n, n + 1, 1), dtype="float32")
    out = keras.layers.Conv2D(1, k, strides=s, padding=padding, dilation_rate=d)(x).shape
    assert out[1:3] == (conv_output_size(n, k, padding, s, d), conv_output_size(n + 1, k, padding, s, d))
    if d == 1 and k <= n:
        pooled = keras.layers.MaxPooling2D(k, strides=s, padding=padding)(x).shape
        assert pooled[1] == conv_output_size(n, k, padding, s)


def test_explicit_padding_matches_zero_padding_then_valid():
    x = np.zeros((1, 7, 7, 1), dtype="float32")
    for p in (1, 2, 3):
        y = keras.layers.Conv2D(1, 3, strides=2)(keras.layers.ZeroPadding2D(p)(x))
        assert y.shape[1] == conv_output_size(7, 3, p, 2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n=0, k=3), "expected n to be an int >= 1, got 0"),
        (dict(n=8, k=2.0), "expected k to be an int >= 1, got 2.0"),
        (dict(n=8, k=3, padding="full"), "expected padding 'valid', 'same' or an int >= 0, got 'full'"),
        (dict(n=8, k=3, padding=-1), "expected padding to be an int >= 0, got -1"),
        (dict(n=8, k=3, stride=0), "expected stride to be an int >= 1, got 0"),
        (dict(n=8, k=3, dilation=True), "expected dilation to be an int >= 1, got True"),
        (dict(n=4, k=3, dilation=2), "a kernel spanning 5 inputs (k=3, dilation=2) does not fit in 4 inputs"),
        (dict(n=1, k=3), "does not fit in 1 inputs padded with 0 zeros"),
    ],
)
def test_bad_input_raises_clear_value_error(kwargs, message):
    with pytest.raises(ValueError, match=None) as err:
        conv_output_size(**kwargs)
    assert message in str(err.value)


# --- plots -----------------------------------------------------------------------------------

def test_plot_filtered_draws_input_and_responses():
    image = np.random.default_rng(0).random((20, 30))
    fig = plot_filtered(image, {"edges": image[1:-1, 1:-1] - 0.5, "blur": image[1:-1, 1:-1]}, ncols=3, show=False)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["input 20×30", "edges 18×28", "blur 18×28"]
    fig.clf()


def test_plot_filtered_accepts_colour_input():
    fig = plot_filtered(np.zeros((10, 12, 3), dtype="uint8"), {"r": np.ones((8, 10))}, show=False)
    assert fig is not None


@pytest.mark.parametrize(
    "image, responses, message",
    [
        (np.zeros((4, 4, 2)), {"a": np.zeros((2, 2))}, "expected an image of shape (h, w) or (h, w, 3), got (4, 4, 2)"),
        (np.zeros((4, 4)), {}, "expected a non-empty dict"),
        (np.zeros((4, 4)), {"a": np.zeros((2, 2, 3))}, "expected response 'a' to be 2-D (h, w), got shape (2, 2, 3)"),
    ],
)
def test_plot_filtered_rejects_bad_input(image, responses, message):
    with pytest.raises(ValueError) as err:
        plot_filtered(image, responses, show=False)
    assert message in str(err.value)


def test_plot_kernels_numbers_every_filter_in_one_mosaic():
    kernels = np.random.default_rng(1).normal(size=(3, 3, 1, 10))
    fig = plot_kernels(kernels, ncols=4, title="k", show=False)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == [str(i) for i in range(10)]
    mosaic = ax.images[0].get_array()
    assert mosaic.shape == (3 * 4 - 1, 4 * 4 - 1)                  # 3 rows, 4 columns, 1-pixel gaps
    np.testing.assert_allclose(mosaic[4:7, 4:7], kernels[:, :, 0, 5])   # filter 5: row 1, column 1
    assert ax.get_title() == "k"


@pytest.mark.parametrize(
    "kernels, message",
    [
        (np.zeros((3, 3, 2, 4)), "expected kernels with 1 input channel, got shape (3, 3, 2, 4)"),
        (np.zeros((3, 3)), "expected kernels of shape (kh, kw, 1, filters) or (kh, kw, filters), got (3, 3)"),
    ],
)
def test_plot_kernels_rejects_bad_shapes(kernels, message):
    with pytest.raises(ValueError) as err:
        plot_kernels(kernels, show=False)
    assert message in str(err.value)


def test_plot_feature_maps_with_input_and_batch_axis():
    maps = np.random.default_rng(2).random((1, 4, 4, 6))
    fig = plot_feature_maps(maps, image=np.zeros((8, 8, 1)), ncols=4, show=False)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["input"] + [f"ch {i}" for i in range(6)]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(maps=np.zeros((4, 4))), "expected feature maps of shape (h, w, channels), got (4, 4)"),
        (dict(maps=np.zeros((4, 4, 3)), labels=["a"]), "expected 3 labels, got 1"),
        (dict(maps=np.zeros((4, 4, 3)), image=np.zeros((8, 8, 3))), "expected the input image as (h, w) or (h, w, 1)"),
        (dict(maps=np.zeros((4, 4, 3)), ncols=0), "expected ncols to be an int >= 1, got 0"),
    ],
)
def test_plot_feature_maps_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError) as err:
        plot_feature_maps(show=False, **kwargs)
    assert message in str(err.value)
