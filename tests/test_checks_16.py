"""The chapter-16 checkers (the self-check quiz) accept the worked solutions and reject typical mistakes."""

import numpy as np
import pytest
from nbutils import assert_rejects as _rejects, load_tagged

from course_lib import checks_16 as checks
from course_lib.exercises import FAILED, PASSED

SOLUTIONS = load_tagged("16_learning_path")


# --- Exercise 1 -------------------------------------------------------------------------------

def _conv(shape=None, params=None):
    def fn(h, w, c_in, filters, k, stride=1, padding="valid"):
        (ho, wo, f), p = SOLUTIONS["conv2d_layer"](h, w, c_in, filters, k, stride, padding)
        if shape:
            ho, wo, f = shape(h, w, c_in, filters, k, stride, padding, ho, wo)
        if params:
            p = params(k, c_in, filters)
        return (ho, wo, f), p
    return fn


@pytest.mark.parametrize("wrong, hint", [
    (_conv(params=lambda k, c, f: k * k * c * f), "misses the biases"),
    (_conv(params=lambda k, c, f: (k * k + 1) * f), "spans all c_in"),
    (_conv(shape=lambda h, w, c, f, k, s, p, ho, wo: (ho, wo, c)), "`filters` channels"),
    (_conv(shape=lambda h, w, c, f, k, s, p, ho, wo: ((h - k) // s, (w - k) // s, f) if p == "valid" else (ho, wo, f)),
     "forgot the + 1"),
    (_conv(shape=lambda h, w, c, f, k, s, p, ho, wo: ((h - k) // s + 1, (w - k) // s + 1, f)), "you computed 'valid'"),
    (_conv(shape=lambda h, w, c, f, k, s, p, ho, wo: (h // s, w // s, f) if p == "same" else (ho, wo, f)), "rounds *up*"),
    (_conv(shape=lambda h, w, c, f, k, s, p, ho, wo: ((h + 2 * (k // 2) - k) // s + 1, (w + 2 * (k // 2) - k) // s + 1, f)
           if p == "same" else (ho, wo, f)), "PyTorch's padding=k // 2"),
    (_conv(shape=lambda h, w, c, f, k, s, p, ho, wo: (h - k + 1, w - k + 1, f) if p == "valid" else (h, w, f)),
     "the stride is ignored"),
])
def test_conv2d_layer_rejects(wrong, hint):
    _rejects(checks.conv2d_layer, wrong, hint)


def test_conv2d_layer_describes_an_unrecognised_wrong_shape_item_by_item():
    """The answer ((h, w, filters), params) is ragged: a wrong shape the checker does not recognise is
    named by its position, never blamed on the student's code."""
    doubled = _conv(shape=lambda h, w, c, f, k, s, p, ho, wo: (2 * ho, wo, f))
    result = checks.conv2d_layer.evaluate(doubled)
    assert result.status == FAILED and "item [0][0]: expected 26, got 52" in result.message, result.message
    assert "raised" not in result.message


def test_flatten_dense_describes_an_unrecognised_wrong_bias_item_by_item():
    def wrong_bias(weight, bias, channels, height, width):
        kernel, _ = SOLUTIONS["torch_flatten_dense_to_keras"](weight, bias, channels, height, width)
        return kernel, 2 * np.asarray(bias)

    result = checks.torch_flatten_dense_to_keras.evaluate(wrong_bias)
    assert result.status == FAILED and "item [1]: values differ" in result.message, result.message
    assert "raised" not in result.message


# --- Exercise 2 -------------------------------------------------------------------------------

@pytest.mark.parametrize("wrong, hint", [
    (lambda d, h, k: 3 * (d * h * k + h * k), "output projection"),
    (lambda d, h, k: 4 * d * h * k, "biases are missing"),
    (lambda d, h, k: 3 * (d * k + k) + (k * d + d), "size of *one* head"),
    (lambda d, h, k: 4 * (d * h * k + h * k), "d_model biases"),
])
def test_mha_params_rejects(wrong, hint):
    _rejects(checks.mha_params, wrong, hint)


# --- Exercise 3 -------------------------------------------------------------------------------

@pytest.mark.parametrize("wrong, hint", [
    (lambda n, u: u * (n + u) + u, "SimpleRNN"),
    (lambda n, u: 3 * (u * (n + u) + u), "is a GRU"),
    (lambda n, u: 4 * (u * n + u), "recurrent kernel"),
    (lambda n, u: 4 * u * (n + u), "biases are missing"),
    (lambda n, u: 4 * (u * (n + u) + 2 * u), "PyTorch"),
])
def test_lstm_params_rejects(wrong, hint):
    _rejects(checks.lstm_params, wrong, hint)


# --- Exercise 4 -------------------------------------------------------------------------------

def _softmax(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("wrong, hint", [
    (lambda s, t=1.0: _softmax(np.asarray(s) * t), "multiplying"),
    (lambda s, t=1.0: _softmax(s), "temperature is ignored"),
    (lambda s, t=1.0: _softmax(np.asarray(s) / t, axis=0), "*last* axis"),
    (lambda s, t=1.0: np.exp(np.asarray(s, float) / t) / np.exp(np.asarray(s, float) / t).sum(-1, keepdims=True),
     "subtract the row's maximum"),
    (lambda s, t=1.0: np.exp(np.asarray(s, float) / t), "not normalised"),
])
def test_softmax_t_rejects(wrong, hint):
    with np.errstate(all="ignore"):
        _rejects(checks.softmax_t, wrong, hint)


# --- Exercise 5 -------------------------------------------------------------------------------

def _adam(correct=True, eps_inside=False, t_shift=0, square=True, v_beta1=False, abs_g=False, sign=-1.0):
    def fn(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * (np.abs(g) if abs_g else g * g if square else g)
        tt = t + t_shift
        mh, vh = (m / (1 - beta1 ** tt), v / (1 - (beta1 if v_beta1 else beta2) ** tt)) if correct else (m, v)
        return w + sign * lr * mh / (np.sqrt(vh + eps) if eps_inside else np.sqrt(vh) + eps), m, v
    return fn


def _keras_adam(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
    """keras.optimizers.Adam's update: bias correction folded into the rate, eps added to sqrt(v)."""
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    lr_t = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    return w - lr_t * m / (np.sqrt(v) + eps), m, v


@pytest.mark.parametrize("wrong, hint", [
    (_adam(correct=False), "no bias correction"),
    (_adam(t_shift=1), "not t + 1"),
    (_adam(eps_inside=True), "outside the square root"),
    (_adam(square=False), "*squared* gradient"),
    (_keras_adam, "that is Keras' form"),
    (_adam(v_beta1=True), "its own decay rate"),
    (_adam(abs_g=True), "not |g|"),
    (_adam(sign=1.0), "*against* the gradient"),
])
def test_adam_step_rejects(wrong, hint):
    with np.errstate(all="ignore"):
        _rejects(checks.adam_step, wrong, hint)


# --- Exercise 6 -------------------------------------------------------------------------------

@pytest.mark.parametrize("wrong, hint", [
    (lambda t: np.triu(np.ones((t, t), bool)), "*future*"),
    (lambda t: np.tril(np.ones((t, t), bool), -1), "diagonal is missing"),
    (lambda t: ~np.tril(np.ones((t, t), bool)), "inverted"),
])
def test_causal_mask_rejects(wrong, hint):
    _rejects(checks.causal_mask, wrong, hint)


# --- Exercise 7 -------------------------------------------------------------------------------

@pytest.mark.parametrize("wrong, hint", [
    (lambda n, d, g, p, u: 2 * n * d / (g * p * u) / 86400, "forward pass"),
    (lambda n, d, g, p, u: 6 * n * d / (g * p) / 86400, "utilization too"),
    (lambda n, d, g, p, u: 6 * n * d / (g * p * u), "in seconds"),
    (lambda n, d, g, p, u: 6 * n * d / (g * p * u) / 3600, "in hours"),
    (lambda n, d, g, p, u: 6 * n * d / (p * u) / 86400, "n_gpus"),
    (lambda n, d, g, p, u: 8 * n * d / (g * p * u) / 86400, "6·N·D"),
])
def test_training_days_rejects(wrong, hint):
    _rejects(checks.training_days, wrong, hint)


# --- Exercise 8 -------------------------------------------------------------------------------

@pytest.mark.parametrize("wrong, hint", [
    (lambda w, b, c, h, wd: (np.asarray(w).T, b), "(C, H, W) order"),
    (lambda w, b, c, h, wd: (np.asarray(w).reshape(h * wd * c, -1), b), "does not transpose"),
    (lambda w, b, c, h, wd: (np.asarray(w).reshape(-1, c, h, wd).transpose(3, 2, 1, 0).reshape(h * wd * c, -1), b),
     "height and width are swapped"),
])
def test_torch_flatten_dense_to_keras_rejects(wrong, hint):
    _rejects(checks.torch_flatten_dense_to_keras, wrong, hint)


# --- Exercise 9 -------------------------------------------------------------------------------

RIGHT = {"q1": "b", "q2": "c", "q3": "c", "q4": "a", "q5": "d", "q6": "b"}


@pytest.mark.parametrize("wrong, hint", [
    (lambda: {**RIGHT, "q3": "a"}, "source 004's erratum"),
    (lambda: {**RIGHT, "q1": "a"}, "permutation-invariant"),
    (lambda: {**RIGHT, "q6": "d", "q2": "a"}, "4 of 6 right"),
    (lambda: {k: v for k, v in RIGHT.items() if k != "q5"}, "q5 missing"),
    (lambda: {**RIGHT, "q4": "yes"}, "one letter"),
    (lambda: ["b", "c"], "return a dict"),
])
def test_concept_answers_rejects(wrong, hint):
    _rejects(checks.concept_answers, wrong, hint)


def test_concept_answers_accepts_upper_case():
    assert checks.concept_answers.evaluate(lambda: {k: v.upper() for k, v in RIGHT.items()}).status == PASSED
