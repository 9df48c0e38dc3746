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


def _bptt(last_only=False, no_carry=False, carry_t=False, no_tanh=False, h_t=False, out_t=False, w_t=False,
          bias2=False):
    def grad_U(x, W, U, b, dL_dhT):
        states = [np.zeros((x.shape[0], U.shape[0]))]
        for t in range(x.shape[1]):
            states.append(np.tanh((x[:, t] @ W if w_t else x[:, t] @ W.T) + states[-1] @ U.T + b * (2 if bias2 else 1)))
        grad, delta = np.zeros(U.shape), dL_dhT
        for t in range(x.shape[1], 0, -1):
            da = delta if no_tanh else delta * (1 - states[t] ** 2)
            prev = states[t] if h_t else states[t - 1]
            grad = grad + (prev.T @ da if out_t else da.T @ prev)
            if last_only:
                break
            if not no_carry:
                delta = da @ (U.T if carry_t else U)
        return grad

    return grad_U


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_bptt(last_only=True), "only the last step's term"),
        (_bptt(no_carry=True), "not carried back through time"),
        (_bptt(carry_t=True), "back through U, not U.T"),
        (_bptt(no_tanh=True), "derivative of tanh is missing"),
        (_bptt(h_t=True), "multiplies the previous state"),
        (_bptt(out_t=True), "the result is transposed"),
        (_bptt(w_t=True), "does not transpose W"),
        (_bptt(bias2=True), "bias is added twice"),
        (lambda x, W, U, b, g: _bptt()(x, W, U, b, g)[:1], "expected shape"),
    ],
)
def test_bptt_grad_U_rejects(wrong, hint):
    _rejects(checks.bptt_grad_U, wrong, hint)


def test_bptt_reference_matches_the_tape():
    import tensorflow as tf

    rng = np.random.default_rng(3)
    x, W, U, b, g = (rng.normal(size=s) for s in [(3, 6, 2), (4, 2), (4, 4), (4,), (3, 4)])
    U_var = tf.Variable(U)
    with tf.GradientTape() as tape:
        h = tf.zeros((3, 4), tf.float64)
        for t in range(6):
            h = tf.tanh(x[:, t] @ W.T + h @ tf.transpose(U_var) + b)
        loss = tf.reduce_sum(h * g)
    np.testing.assert_allclose(checks.reference_bptt_grad_U(x, W, U, b, g), tape.gradient(loss, U_var), atol=1e-10)


def test_bptt_accepts_float32_and_tensorflow_answers():
    import tensorflow as tf

    solution = SOLUTIONS["bptt_grad_U"]
    assert checks.bptt_grad_U.evaluate(lambda *a: solution(*(np.float32(v) for v in a)).astype("float32")).passed
    assert checks.bptt_grad_U.evaluate(lambda *a: tf.constant(solution(*a))).passed


def _clip(per_array=False, norm="global", always=False, clipped_norm=False, in_place=False, nan_on_zero=False):
    def clip(grads, max_norm):
        norms = [np.sqrt(np.sum(np.square(g))) for g in grads]
        if per_array:
            return [g * min(1.0, max_norm / n) if n else g for g, n in zip(grads, norms)], float(np.sqrt(sum(n**2 for n in norms)))
        total = float(np.sqrt(sum(n**2 for n in norms))) if norm == "global" else float(sum(norms))
        if nan_on_zero:
            scale = min(1.0, max_norm / total) if total else float("nan")
        else:
            scale = max_norm / total if (always and total) or total > max_norm else 1.0
        if in_place:
            for g in grads:
                g *= scale
            return list(grads), total
        return [np.asarray(g) * scale for g in grads], (min(total, max_norm) if clipped_norm else total)

    return clip


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_clip(per_array=True), "clipped on its own"),
        (_clip(norm="sum"), "not the sum of the arrays' norms"),
        (_clip(always=True), "only scale down"),
        (_clip(clipped_norm=True), "measured before clipping"),
        (lambda grads, max_norm: _clip()(grads, max_norm)[0], "expected a pair"),
        (_clip(nan_on_zero=True), "instead of dividing by 0"),
    ],
)
def test_clip_by_global_norm_rejects(wrong, hint):
    _rejects(checks.clip_by_global_norm, wrong, hint)


def test_clip_reference_matches_tensorflow_and_keras():
    import tensorflow as tf

    rng = np.random.default_rng(4)
    grads = [rng.normal(size=(3, 2)) * 3, rng.normal(size=4) * 3]
    ours, norm = checks.reference_clip_by_global_norm(grads, 1.0)
    theirs, their_norm = tf.clip_by_global_norm([tf.constant(g) for g in grads], 1.0)
    assert np.isclose(norm, their_norm.numpy())
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-12)
    variables = [tf.Variable(np.zeros_like(g)) for g in grads]
    keras.optimizers.SGD(1.0, global_clipnorm=1.0).apply([tf.constant(g) for g in grads], variables)
    for a, v in zip(ours, variables):
        np.testing.assert_allclose(-v.numpy(), a, atol=1e-6)


def _gru(reset_after=True, swap_z=False, order="zrh", recurrent_bias=True, use_reset=True):
    def step(x, h, kernel, recurrent_kernel, bias):
        n = recurrent_kernel.shape[0]
        b_rec = bias[1] if recurrent_bias else np.zeros_like(bias[1])
        xs = dict(zip(order, np.split(x @ kernel + bias[0], 3, axis=-1)))
        rk = dict(zip(order, np.split(recurrent_kernel, 3, axis=-1)))
        rb = dict(zip(order, np.split(b_rec, 3)))
        z = sigmoid(xs["z"] + h @ rk["z"] + rb["z"])
        r = sigmoid(xs["r"] + h @ rk["r"] + rb["r"])
        if not use_reset:
            cand = np.tanh(xs["h"] + h @ rk["h"] + rb["h"])
        elif reset_after:
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
        (_gru(use_reset=False), "reset gate r is computed but never used"),
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
    checks.bptt_grad_U.evaluate(SOLUTIONS["bptt_grad_U"])
    checks.clip_by_global_norm.evaluate(SOLUTIONS["clip_by_global_norm"])
    checks.pad_batch.evaluate(SOLUTIONS["pad_batch"])
    assert np.random.random() == before
