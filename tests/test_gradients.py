"""Unit tests of course_lib.gradients: numerical gradients, relative errors, layer profiles, plots."""

import keras
import matplotlib
import numpy as np
import pytest
import tensorflow as tf

from course_lib import gradients


# --- numerical_gradient -------------------------------------------------------------------------

def test_numerical_gradient_matches_an_exact_gradient_in_any_shape():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 6))
    x = rng.normal(size=(2, 3))
    f = lambda v: float(v.ravel() @ a @ v.ravel() + np.sum(np.sin(v)))
    exact = ((a + a.T) @ x.ravel()).reshape(x.shape) + np.cos(x)
    got = gradients.numerical_gradient(f, x, eps=1e-5)
    assert got.shape == x.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, exact, atol=1e-8)


def test_numerical_gradient_is_central_not_forward():
    # f = x**3 at x = 1: central error eps**2 (1e-6), forward error 3*eps (3e-3).
    got = gradients.numerical_gradient(lambda v: float(v[0] ** 3), np.array([1.0]), eps=1e-3)
    assert abs(got[0] - 3.0) < 2e-6


def test_numerical_gradient_restores_x_and_works_on_views():
    x = np.arange(12, dtype=np.float64).reshape(3, 4) / 10
    before = x.copy()
    view = x[:, ::2]  # not contiguous: perturbing it must still reach the function
    got = gradients.numerical_gradient(lambda v: float(np.sum(v ** 2)), view)
    np.testing.assert_allclose(got, 2 * view, atol=1e-6)
    assert np.array_equal(x, before)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.ones(3)

    def explode(v):
        if v[1] != 1.0:
            raise RuntimeError("boom")
        return float(v.sum())

    with pytest.raises(RuntimeError):
        gradients.numerical_gradient(explode, x)
    assert np.array_equal(x, np.ones(3))


@pytest.mark.parametrize(
    "x, eps, message",
    [
        (np.ones(3, dtype=np.float32), 1e-6, "float64 array, got float32"),
        ([1.0, 2.0], 1e-6, "NumPy array, got list"),
        (np.ones(3), 0.0, "positive number"),
        (np.ones(3), -1e-3, "positive number"),
    ],
)
def test_numerical_gradient_rejects_bad_input(x, eps, message):
    with pytest.raises(ValueError, match=message):
        gradients.numerical_gradient(lambda v: 0.0, x, eps)


def test_numerical_gradient_rejects_a_non_scalar_function():
    with pytest.raises(ValueError, match="finite scalar"):
        gradients.numerical_gradient(lambda v: v * 2, np.ones(2))
    with pytest.raises(ValueError, match="finite scalar"):
        gradients.numerical_gradient(lambda v: float("nan"), np.ones(2))


# --- relative_error -----------------------------------------------------------------------------

def test_relative_error_values():
    g = np.array([1.0, -2.0, 3.0])
    assert gradients.relative_error(g, g) == 0.0
    assert gradients.relative_error(g, -g) == pytest.approx(1.0)
    assert gradients.relative_error(g, 32 * g) == pytest.approx(31 / 33)
    assert gradients.relative_error(1e-9 * g, 1e-9 * g * (1 + 1e-6)) == pytest.approx(5e-7, rel=1e-3)
    assert gradients.relative_error(np.zeros(3), np.zeros(3)) == 0.0


def test_relative_error_rejects_bad_input():
    with pytest.raises(ValueError, match=r"same shape, got \(3,\) and \(2,\)"):
        gradients.relative_error(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="finite"):
        gradients.relative_error(np.array([np.nan]), np.array([1.0]))


# --- layer_profile ------------------------------------------------------------------------------

def _small_mlp(activation="relu", depth=4, seed=0):
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((8,))]
    layers += [keras.layers.Dense(6, activation=activation) for _ in range(depth - 1)]
    layers.append(keras.layers.Dense(3))
    return keras.Sequential(layers)


def _batch(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 8)).astype("float32"), rng.integers(0, 3, size=n)


def test_layer_profile_matches_a_direct_tape_computation():
    model = _small_mlp()
    x, y = _batch()
    profile = gradients.layer_profile(model, x, y)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x))
    kernels = [layer.kernel for layer in model.layers]
    expected = [float(tf.norm(g)) for g in tape.gradient(loss, kernels)]
    np.testing.assert_allclose(profile.kernel_grad, expected, rtol=1e-5)
    assert profile.loss == pytest.approx(float(loss), rel=1e-6)
    assert profile.output_grad.shape == profile.output_std.shape == (4,)
    # the last output is the logits: ∂E/∂logits = (softmax - onehot)/B
    p = tf.nn.softmax(model(x)).numpy()
    direct = np.linalg.norm((p - np.eye(3)[y]) / len(y))
    assert profile.output_grad[-1] == pytest.approx(direct, rel=1e-5)


def test_layer_profile_shows_sigmoid_vanishing():
    x, y = _batch(64)
    sigmoid = gradients.layer_profile(_small_mlp("sigmoid", depth=8), x, y)
    assert sigmoid.kernel_grad[0] < 0.05 * sigmoid.kernel_grad[-1]


def test_layer_profile_accepts_a_custom_loss():
    model = _small_mlp()
    x, y = _batch()
    profile = gradients.layer_profile(model, x, y, loss_fn=lambda yt, out: tf.reduce_sum(out) * 0.0 + 1.0)
    assert profile.loss == 1.0


def test_layer_profile_rejects_bad_input():
    model = _small_mlp()
    x, y = _batch()
    with pytest.raises(ValueError, match=r"x of shape \(batch, features\)"):
        gradients.layer_profile(model, x[:, None, :], y)
    with pytest.raises(ValueError, match=r"got \(16, 8\) and \(15,\)"):
        gradients.layer_profile(model, x, y[:-1])
    with pytest.raises(ValueError, match="integer class labels"):
        gradients.layer_profile(model, x, y.astype(float))
    with pytest.raises(ValueError, match="sequential Keras model"):
        gradients.layer_profile(object(), x, y)
    no_kernel = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3), keras.layers.Dropout(0.1, name="drop")])
    with pytest.raises(ValueError, match=r"\['drop'\] have none"):
        gradients.layer_profile(no_kernel, x, y)


# --- plots --------------------------------------------------------------------------------------

def test_plot_layer_norms_draws_log_panels():
    curves = {"a": [1e-3, 1e-2, 1e-1], "b": [1.0, 1.0, 2.0]}
    fig = gradients.plot_layer_norms({"first": curves, "second": curves}, title="t", show=False)
    try:
        assert isinstance(fig, matplotlib.figure.Figure)
        axes = fig.get_axes()
        assert len(axes) == 2 and all(ax.get_yscale() == "log" for ax in axes)
        assert [ax.get_title() for ax in axes] == ["first", "second"]
        assert len(fig.legends) == 1  # shared labels: one legend for the figure
    finally:
        matplotlib.pyplot.close(fig)


def test_plot_layer_norms_single_panel_has_its_own_legend():
    fig = gradients.plot_layer_norms({"only": {"a": [1.0, 2.0]}}, show=False)
    try:
        assert fig.get_axes()[0].get_legend() is not None and not fig.legends
    finally:
        matplotlib.pyplot.close(fig)


@pytest.mark.parametrize(
    "panels, message",
    [
        ({}, "non-empty mapping"),
        ({"p": {}}, "panel 'p'"),
        ({"p": {"a": [1.0, 0.0]}}, "zero, negative or not finite"),
        ({"p": {"a": [1.0, np.inf]}}, "overflow"),
        ({"p": {"a": [[1.0]]}}, "1-D array"),
    ],
)
def test_plot_layer_norms_rejects_bad_input(panels, message):
    with pytest.raises(ValueError, match=message):
        gradients.plot_layer_norms(panels, show=False)


def test_plot_step_size_errors():
    eps = np.logspace(-8, -1, 8)
    fig = gradients.plot_step_size_errors(eps, {"central": eps ** 2, "zero": np.zeros(8)}, show=False)
    try:
        ax = fig.get_axes()[0]
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log" and len(ax.get_lines()) == 2
    finally:
        matplotlib.pyplot.close(fig)
    with pytest.raises(ValueError, match=r"expected 8 errors \(one per step\)"):
        gradients.plot_step_size_errors(eps, {"short": eps[:3]}, show=False)
    with pytest.raises(ValueError, match="positive steps"):
        gradients.plot_step_size_errors(-eps, {"a": eps}, show=False)
