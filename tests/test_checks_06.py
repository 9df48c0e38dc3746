"""The chapter-06 checkers accept the worked solutions and reject the typical mistakes with hints."""

import keras
import numpy as np
import pytest
from nbutils import assert_rejects as _rejects, load_tagged

from course_lib import checks_06 as checks

SOLUTIONS = load_tagged("06_recurrent_networks")
STUBS = load_tagged("06_recurrent_networks", tag="exercise", folder="notebooks")


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, h, W, U, b: np.tanh(x @ U.T + h @ W.T + b), "swapped"),
        (lambda x, h, W, U, b: x @ W.T + h @ U.T + b, "activation is missing"),
        (lambda x, h, W, U, b: np.tanh(x @ W.T + h @ U.T), "bias b is missing"),
        (lambda x, h, W, U, b: np.tanh(x @ W + h @ U + b), "not transposed"),
        (lambda x, h, W, U, b: np.tanh(x @ W.T + b), "previous state is missing"),
        (lambda x, h, W, U, b: sigmoid(x @ W.T + h @ U.T + b), "not the sigmoid"),
        (lambda x, h, W, U, b: np.tanh(x @ W.T + h @ U.T + b)[:1], "expected shape"),
    ],
)
def test_rnn_step_rejects(wrong, hint):
    _rejects(checks.rnn_step, wrong, hint)


def _lstm(order="ifco", gate=sigmoid, use_old_c=False, swap=False):
    def step(x, h, c, kernel, recurrent_kernel, bias):
        parts = dict(zip(order, np.split(x @ kernel + h @ recurrent_kernel + bias, 4, axis=-1)))
        i, f, g, o = gate(parts["i"]), gate(parts["f"]), np.tanh(parts["c"]), gate(parts["o"])
        c_new = f * c + i * g
        h_new = o * np.tanh(c if use_old_c else c_new)
        return (c_new, h_new) if swap else (h_new, c_new)

    return step


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_lstm(order="fico"), "input and forget gates are mixed up"),
        (_lstm(order="ifoc"), "candidate"),
        (_lstm(gate=np.tanh), "use the sigmoid"),
        (_lstm(use_old_c=True), "update the cell first"),
        (_lstm(swap=True), "return (h_new, c_new)"),
        (lambda x, h, c, k, r, b: _lstm()(x, h, c, k, r, b)[0], "expected a tuple"),
    ],
)
def test_lstm_step_rejects(wrong, hint):
    _rejects(checks.lstm_step, wrong, hint)


def test_lstm_reference_matches_keras():
    rng = np.random.default_rng(0)
    x, h0, c0 = rng.normal(size=(2, 1, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    layer = keras.layers.LSTM(4, return_state=True)
    layer.build((None, 1, 3))
    layer.cell.bias.assign(rng.normal(size=16))
    _, h, c = layer(x.astype("float32"), initial_state=[h0.astype("float32"), c0.astype("float32")])
    ours = checks.reference_lstm_step(x[:, 0], h0, c0, *(w.numpy() for w in layer.weights))
    np.testing.assert_allclose(ours[0], h, atol=1e-5)
    np.testing.assert_allclose(ours[1], c, atol=1e-5)


def _gru(reset_after=True, swap_z=False, order="zrh", recurrent_bias=True):
    def step(x, h, kernel, recurrent_kernel, bias):
        n = recurrent_kernel.shape[0]
        b_rec = bias[1] if recurrent_bias else np.zeros_like(bias[1])
        xs = dict(zip(order, np.split(x @ kernel + bias[0], 3, axis=-1)))
        rk = dict(zip(order, np.split(recurrent_kernel, 3, axis=-1)))
        rb = dict(zip(order, np.split(b_rec, 3)))
        z = sigmoid(xs["z"] + h @ rk["z"] + rb["z"])
        r = sigmoid(xs["r"] + h @ rk["r"] + rb["r"])
        if reset_after:
            cand = np.tanh(xs["h"] + r * (h @ rk["h"] + rb["h"]))
        else:
            cand = np.tanh(xs["h"] + (r * h) @ rk["h"] + rb["h"])
        return (1 - z) * h + z * cand if swap_z else z * h + (1 - z) * cand

    return step


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_gru(reset_after=False), "reset_after=False"),
        (_gru(swap_z=True), "z and 1 - z are swapped"),
        (_gru(order="rzh"), "gate order"),
        (_gru(recurrent_bias=False), "left out bias[1]"),
    ],
)
def test_gru_step_rejects(wrong, hint):
    _rejects(checks.gru_step, wrong, hint)


def test_gru_reference_matches_keras():
    rng = np.random.default_rng(1)
    x, h0 = rng.normal(size=(3, 1, 2)).astype("float32"), rng.normal(size=(3, 4)).astype("float32")
    layer = keras.layers.GRU(4)
    layer.build((None, 1, 2))
    layer.cell.bias.assign(rng.normal(size=(2, 12)))
    expected = layer(x, initial_state=[h0]).numpy()
    ours = checks.reference_gru_step(x[:, 0], h0, *(w.numpy() for w in layer.weights))
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def _pad(side_flip=False, mask_plus=0, pre_shift=0, truncate=False, check_side=True, float_ids=False, int_mask=False):
    def pad(seqs, max_len, side="post"):
        if check_side and side not in ("post", "pre"):
            raise ValueError(side)
        if side_flip:
            side = "pre" if side == "post" else "post"
        ids = np.zeros((len(seqs), max_len), dtype=float if float_ids else int)
        mask = np.zeros((len(seqs), max_len), dtype=bool)
        for i, s in enumerate(seqs):
            if len(s) > max_len:
                if not truncate:
                    raise ValueError("too long")
                s = s[:max_len]
            if side == "post":
                ids[i, :len(s)] = s
                mask[i, :len(s) + mask_plus] = True
            else:
                start = max_len - len(s) - pre_shift
                ids[i, start:start + len(s)] = s
                mask[i, start:start + len(s)] = True
        return ids, mask.astype(int) if int_mask else mask

    return pad


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_pad(side_flip=True), "wrong side"),
        (_pad(mask_plus=1), "off by one"),
        (_pad(pre_shift=1), "off by one with side='pre'"),
        (_pad(truncate=True), "must raise ValueError"),
        (_pad(check_side=False), "side must be 'post' or 'pre'"),
        (_pad(float_ids=True), "must be integers"),
        (_pad(int_mask=True), "must be boolean"),
        (lambda seqs, max_len, side="post": (_pad()(seqs, max_len, side)[0], ~_pad()(seqs, max_len, side)[1]),
         "inverted"),
    ],
)
def test_pad_batch_rejects(wrong, hint):
    _rejects(checks.pad_batch, wrong, hint)


def test_pad_reference_matches_keras():
    batch = [[5, 7, 9], [4, 2], [8, 3, 6, 1]]
    for side in ("post", "pre"):
        ids, mask = checks.reference_pad_batch(batch, 6, side=side)
        np.testing.assert_array_equal(ids, keras.utils.pad_sequences(batch, maxlen=6, padding=side))
        np.testing.assert_array_equal(mask, ids != 0)


def test_checkers_do_not_touch_global_seeds():
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    checks.rnn_step.evaluate(SOLUTIONS["rnn_step"])
    checks.pad_batch.evaluate(SOLUTIONS["pad_batch"])
    assert np.random.random() == before
