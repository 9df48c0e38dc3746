"""Checkers for the exercises of ``06_recurrent_networks``.

Usage in the notebook::

    from course_lib import checks_06 as checks
    checks.bptt_grad_U(bptt_grad_U)

The references below are also the course's reference implementations of one step of each cell
(NumPy, batches as rows); the notebook derives and explains the same equations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.exercises import Case, ExerciseSet, Mistake, Wrong, compare_with_reference, describe

EXERCISES = ExerciseSet("06_recurrent_networks")
summary = EXERCISES.summary


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _arrays(seed: int, *shapes: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)  # a local generator: the student's global seeds are untouched
    return tuple(rng.normal(size=s) for s in shapes)


# --- Exercise 1 ------------------------------------------------------------------------------

def _bptt_variant(transpose_w: bool = False, bias_twice: bool = False, last_only: bool = False,
                  no_carry: bool = False, carry_transposed: bool = False, no_tanh_grad: bool = False,
                  uses_h_t: bool = False, transposed_out: bool = False):
    """dL/dU of h_t = tanh(W x_t + U h_{t-1} + b), h_0 = 0, given dL/dh_T; variants are typical mistakes."""

    def grad_U(x, W, U, b, dL_dhT):
        x, W, U, b, dh = (np.asarray(a, dtype=float) for a in (x, W, U, b, dL_dhT))
        h = np.zeros((x.shape[0], U.shape[0]))
        states = [h]
        for t in range(x.shape[1]):  # forward pass, keeping every state
            a = (x[:, t] @ W if transpose_w else x[:, t] @ W.T) + h @ U.T + b + (b if bias_twice else 0.0)
            h = np.tanh(a)
            states.append(h)
        grad = np.zeros_like(U)
        delta = dh                                   # dL/dh_t, starting at t = T
        for t in range(x.shape[1], 0, -1):           # backward pass: t = T, ..., 1
            da = delta if no_tanh_grad else delta * (1.0 - states[t] ** 2)  # through tanh
            prev = states[t] if uses_h_t else states[t - 1]
            grad += prev.T @ da if transposed_out else da.T @ prev         # this step's share of dL/dU
            if last_only:
                break
            if not no_carry:
                delta = da @ U.T if carry_transposed else da @ U            # dL/dh_{t-1}
        return grad

    return grad_U


reference_bptt_grad_U = _bptt_variant()
reference_bptt_grad_U.__doc__ = (
    "dL/dU by backpropagation through time for h_t = tanh(W x_t + U h_{t-1} + b), h_0 = 0: x (batch, T, d), "
    "W (n, d), U (n, n), b (n,), dL_dhT (batch, n) -> (n, n), summed over the steps and the batch.")


def _bptt_cases() -> list[Case]:
    cases = []
    # (batch, T, d, n): d == n lets an untransposed W run (and be caught); T = 1 gives zero (h_0 = 0)
    for seed, (batch, T, d, n) in enumerate([(2, 5, 3, 4), (3, 4, 4, 4), (1, 1, 2, 3), (2, 7, 2, 2), (4, 3, 5, 3)]):
        x, W, U, b, dh = _arrays(110 + seed, (batch, T, d), (n, d), (n, n), (n,), (batch, n))
        cases.append(Case((x, W, 0.9 * U, b, dh)))
    x, W, U, b, _ = _arrays(120, (2, 4, 3), (3, 3), (3, 3), (3,), (2, 3))
    cases.append(Case((x, W, U, b, np.zeros((2, 3)))))           # no upstream gradient: no weight gradient
    return cases


@EXERCISES.exercise(1, "backpropagation through time by hand: dL/dU")
def bptt_grad_U(student: Any) -> str:
    """``bptt_grad_U(x, W, U, b, dL_dhT)`` -> dL/dU (n, n), summed over every step (and the batch)."""
    mistakes = [
        Mistake(_bptt_variant(last_only=True), "only the last step's term: U is used at every step, so BPTT "
                "sums the contributions of all steps, carrying dL/dh_t back with dL/dh_{t-1} = "
                "(dL/dh_t * (1 - h_t**2)) @ U"),
        Mistake(_bptt_variant(no_carry=True), "dL/dh_t is not carried back through time: before the next "
                "(earlier) step, set delta = (delta * (1 - h_t**2)) @ U"),
        Mistake(_bptt_variant(carry_transposed=True), "the gradient goes back through U, not U.T: with rows, "
                "a_t = ... + h_{t-1} @ U.T, so dL/dh_{t-1} = dL/da_t @ U"),
        Mistake(_bptt_variant(no_tanh_grad=True), "the derivative of tanh is missing: dL/da_t = dL/dh_t * "
                "(1 - h_t**2) before it reaches U"),
        Mistake(_bptt_variant(uses_h_t=True), "U multiplies the previous state: step t contributes "
                "dL/da_t.T @ h_{t-1}, not h_t"),
        Mistake(_bptt_variant(transposed_out=True), "the result is transposed: U[i, j] links h_{t-1}[j] to "
                "unit i, so step t contributes dL/da_t.T @ h_{t-1} (shape (n, n), rows = units)"),
        Mistake(_bptt_variant(transpose_w=True), "the forward pass does not transpose W: with examples as rows, "
                "W x_t is x_t @ W.T (W has shape (n, d))"),
        Mistake(_bptt_variant(bias_twice=True), "the bias is added twice in the forward pass: "
                "h_t = tanh(x_t @ W.T + h_{t-1} @ U.T + b), one b"),
    ]
    return compare_with_reference(student, reference_bptt_grad_U, _bptt_cases(), mistakes, name="bptt_grad_U")


# --- Exercise 2 ------------------------------------------------------------------------------

def _clip_variant(norm: str = "global", per_array: bool = False, always: bool = False,
                  clipped_norm: bool = False, inverted: bool = False, nan_on_zero: bool = False):
    def clip(grads, max_norm):
        arrays = [np.asarray(g, dtype=float) for g in grads]
        norms = [float(np.sqrt(np.sum(g ** 2))) for g in arrays]
        if per_array:  # Keras' clipnorm: every array on its own
            out = [g * (max_norm / n if n > max_norm else 1.0) for g, n in zip(arrays, norms)]
            return out, float(np.sqrt(sum(n ** 2 for n in norms)))
        total = {"global": float(np.sqrt(sum(n ** 2 for n in norms))), "sum": float(sum(norms)),
                 "max": max(norms, default=0.0)}[norm]
        if nan_on_zero and total == 0:
            scale = float("nan")
        elif always:
            scale = max_norm / total if total > 0 else 1.0
        elif inverted:
            scale = total / max_norm if total > max_norm else 1.0
        else:
            scale = max_norm / total if total > max_norm else 1.0
        out = [g * scale for g in arrays]
        return out, (min(total, max_norm) if clipped_norm else total)

    return clip


reference_clip_by_global_norm = _clip_variant()
reference_clip_by_global_norm.__doc__ = (
    "Scale every gradient by max_norm / global_norm when global_norm = sqrt(sum of all squared entries) exceeds "
    "max_norm: returns (the list of clipped arrays, the global norm before clipping), as tf.clip_by_global_norm.")


def _clip_cases() -> list[Case]:
    g1, g2, g3 = _arrays(130, (3, 2), (4,), (2, 2, 2))
    small = [0.1 * g1, 0.1 * g2]
    return [
        Case(([3 * g1, 3 * g2, 3 * g3], 1.0)),                       # far above: every array scaled alike
        Case(([3 * g1, 3 * g2, 3 * g3], 5.0)),                       # another threshold, the same gradients
        Case(([np.array([3.0, 4.0]), np.array([0.0, 0.5])], 1.0)),  # one array alone below the threshold
        Case((small, 10.0)),                                         # below: unchanged
        Case(([np.array([3.0, 4.0])], 5.0)),                         # exactly at the threshold
        Case(([np.zeros((2, 3)), np.zeros(4)], 1.0)),                # all zero: no division by zero
        Case(([np.array([[6.0, 8.0]])], 2.5)),                       # one array: global norm = its norm
        Case(([], 1.0)),                                             # nothing to clip
    ]


@EXERCISES.exercise(2, "clipping gradients by their global norm")
def clip_by_global_norm(student: Any) -> str:
    """``clip_by_global_norm(grads, max_norm)`` -> ``(clipped, global_norm)``, as ``tf.clip_by_global_norm``."""
    mistakes = [
        Mistake(_clip_variant(per_array=True), "each array is clipped on its own (what Keras' clipnorm does): "
                "that changes the gradient's direction. Compute one global norm over all arrays and scale "
                "every array by the same factor"),
        Mistake(_clip_variant(norm="sum"), "the global norm is not the sum of the arrays' norms: it is "
                "sqrt(sum of ||g_i||**2), the norm of all entries of all arrays together"),
        Mistake(_clip_variant(norm="max"), "the global norm is not the largest of the arrays' norms: it is "
                "sqrt(sum of ||g_i||**2), the norm of all entries of all arrays together"),
        Mistake(_clip_variant(always=True), "only scale down: gradients whose global norm is already at most "
                "max_norm must come back unchanged"),
        Mistake(_clip_variant(inverted=True), "the factor is upside down: multiply by max_norm / global_norm "
                "(less than 1), not global_norm / max_norm"),
        Mistake(_clip_variant(clipped_norm=True), "return the global norm measured before clipping (as "
                "tf.clip_by_global_norm does), not after"),
        Mistake(_clip_variant(nan_on_zero=True), "all-zero gradients have a global norm of 0: return them "
                "unchanged instead of dividing by 0 (which gives NaN)"),
    ]
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    case = _clip_cases()[0]
    got = student(*case.args)
    if not isinstance(got, (tuple, list)) or len(got) != 2 or not isinstance(got[0], (tuple, list)):
        raise Wrong(f"{case.show('clip_by_global_norm')}: expected a pair (list of clipped arrays, global norm), "
                    f"got {describe(got)}")
    return compare_with_reference(student, reference_clip_by_global_norm, _clip_cases(), mistakes,
                                  name="clip_by_global_norm")


# --- Exercise 3 ------------------------------------------------------------------------------

def _gru_variant(reset_after: bool = True, keep_old: str = "z", order: str = "zrh",
                 biases: str = "both", cand=np.tanh, use_reset: bool = True):
    def step(x, h, kernel, recurrent_kernel, bias):
        bias = np.asarray(bias)
        b_in, b_rec = bias[0], bias[1]
        if biases == "input":
            b_rec = np.zeros_like(b_rec)
        elif biases == "summed":
            b_in, b_rec = b_in + b_rec, np.zeros_like(b_rec)
        xs = dict(zip(order, np.split(x @ kernel + b_in, 3, axis=-1)))
        n = recurrent_kernel.shape[0]
        blocks = dict(zip(order, range(3)))
        rk = {g: recurrent_kernel[:, k * n:(k + 1) * n] for g, k in blocks.items()}
        rb = {g: b_rec[k * n:(k + 1) * n] for g, k in blocks.items()}
        z = _sigmoid(xs["z"] + h @ rk["z"] + rb["z"])
        r = _sigmoid(xs["r"] + h @ rk["r"] + rb["r"])
        if not use_reset:
            candidate = cand(xs["h"] + h @ rk["h"] + rb["h"])
        elif reset_after:
            candidate = cand(xs["h"] + r * (h @ rk["h"] + rb["h"]))
        else:
            candidate = cand(xs["h"] + (r * h) @ rk["h"] + rb["h"])
        return z * h + (1 - z) * candidate if keep_old == "z" else (1 - z) * h + z * candidate

    return step


reference_gru_step = _gru_variant()
reference_gru_step.__doc__ = "One step of keras.layers.GRU with reset_after=True (gates z, r, h; bias (2, 3n))."


def _gru_cases() -> list[Case]:
    cases = []
    for seed, (batch, d, n) in enumerate([(2, 3, 4), (3, 2, 3), (1, 4, 2)]):
        x, h, k, r, b = _arrays(300 + seed, (batch, d), (batch, n), (d, 3 * n), (n, 3 * n), (2, 3 * n))
        cases.append(Case((x, h, k, r, b)))
    x, _, k, r, b = _arrays(310, (2, 3), (2, 2), (3, 6), (2, 6), (2, 6))
    cases.append(Case((x, np.zeros((2, 2)), k, r, b)))   # the first step, from h_0 = 0
    return cases


@EXERCISES.exercise(3, "one step of a Keras GRU (reset_after=True)")
def gru_step(student: Any) -> str:
    """``gru_step(x, h, kernel, recurrent_kernel, bias)`` -> new state, as ``keras.layers.GRU`` computes it."""
    mistakes = [
        Mistake(_gru_variant(reset_after=False), "the reset gate is applied before the recurrent product "
                "(reset_after=False, the original paper's form); Keras' default multiplies after it: "
                "tanh(x W_h + b_h + r * (h U_h + b'_h))"),
        Mistake(_gru_variant(keep_old="1-z"), "z and 1 - z are swapped: in Keras z is the share of the old "
                "state kept, h_new = z * h + (1 - z) * candidate"),
        Mistake(_gru_variant(order="rzh"), "the gate order in Keras' kernel is z, r, h: the update gate "
                "comes first, then the reset gate"),
        Mistake(_gru_variant(biases="input"), "bias has two rows: bias[0] is added to the input product, "
                "bias[1] to the recurrent product (inside the reset gate's reach); you left out bias[1]"),
        Mistake(_gru_variant(biases="summed"), "bias[1] belongs to the recurrent product: the reset gate "
                "multiplies (h U_h + bias[1]_h), so the two biases cannot simply be added together"),
        Mistake(_gru_variant(cand=_sigmoid), "the candidate state uses tanh, not the sigmoid"),
        Mistake(_gru_variant(use_reset=False), "the reset gate r is computed but never used: it multiplies the "
                "recurrent part of the candidate, tanh(x W_h + b_h + r * (h U_h + b'_h))"),
    ]
    return compare_with_reference(student, reference_gru_step, _gru_cases(), mistakes, name="gru_step")


# --- Exercise 4 ------------------------------------------------------------------------------

def _pad_variant(flip_side: bool = False, invert_mask: bool = False, mask_extra: int = 0,
                 pre_shift: int = 0, truncate: str = "", check_side: bool = True):
    def pad(seqs, max_len, side="post"):
        if check_side and side not in ("post", "pre"):
            raise ValueError(side)
        if flip_side:
            side = "pre" if side == "post" else "post"
        ids = np.zeros((len(seqs), max_len), dtype=np.int64)
        mask = np.zeros((len(seqs), max_len), dtype=bool)
        for i, s in enumerate(seqs):
            s = list(s)
            if len(s) > max_len:
                if not truncate:
                    raise ValueError("too long")
                s = s[len(s) - max_len:] if truncate == "keep last" else s[:max_len]
            if not s:
                continue
            if side == "post":
                ids[i, :len(s)] = s
                mask[i, :min(len(s) + mask_extra, max_len)] = True
            else:
                start = max_len - len(s) - pre_shift
                ids[i, start:start + len(s)] = s
                mask[i, max(start - mask_extra, 0):start + len(s)] = True
        return ids, (~mask if invert_mask else mask)

    return pad


reference_pad_batch = _pad_variant()
reference_pad_batch.__doc__ = "Pad token-id lists with 0 after (post) or before (pre) them; return (ids, mask)."


def _pad_cases() -> list[Case]:
    batch = [[5, 7, 9], [4, 2], [8, 3, 6, 1]]
    return [
        Case((batch, 5), {"side": "post"}),
        Case((batch, 5), {"side": "pre"}),
        Case(([[3], [1, 2, 3, 4, 5, 6]], 6), {"side": "pre"}),
        Case(([[2, 9, 4], [7]], 3), {"side": "post"}),
        Case((batch, 3), {"side": "post"}),
        Case((batch, 5), {"side": "left"}),
        Case(([[], [4, 2]], 3), {"side": "pre"}),            # an empty sequence: all padding
        Case(([[6, 1], []], 4)),                             # side defaults to "post"
        Case(([[9, 8, 7]], 3), {"side": "pre"}),             # exactly max_len: no padding at all
    ]


@EXERCISES.exercise(4, "pad a batch and make its mask")
def pad_batch(student: Any) -> str:
    """``pad_batch(seqs, max_len, side)`` -> ``(ids, mask)``; ValueError for a too-long sequence or bad side."""
    mistakes = [
        Mistake(_pad_variant(flip_side=True), "the padding is on the wrong side: 'post' puts the zeros after "
                "the tokens, 'pre' before them"),
        Mistake(_pad_variant(invert_mask=True), "the mask is inverted: it is True at the real tokens, False at padding"),
        Mistake(_pad_variant(mask_extra=1), "the mask is off by one: it covers one padded position too many; "
                "exactly len(seq) positions are True"),
        Mistake(_pad_variant(pre_shift=1), "off by one with side='pre': the tokens must end at the last "
                "position, ids[i, max_len - len(seq):] = seq"),
        Mistake(_pad_variant(truncate="keep first"), "a sequence longer than max_len must raise ValueError, "
                "not be cut silently (that loses tokens without anyone noticing)"),
        Mistake(_pad_variant(truncate="keep last"), "a sequence longer than max_len must raise ValueError, "
                "not be cut silently (that loses tokens without anyone noticing)"),
        Mistake(_pad_variant(check_side=False), "side must be 'post' or 'pre': raise ValueError for anything "
                "else instead of guessing"),
    ]
    detail = compare_with_reference(student, reference_pad_batch, _pad_cases(), mistakes, name="pad_batch")
    case = _pad_cases()[0]
    ids, mask = student(*case.args, **case.kwargs)
    ids, mask = np.asarray(ids), np.asarray(mask)
    if not np.issubdtype(ids.dtype, np.integer):
        raise Wrong(f"{case.show('pad_batch')}: token ids must be integers, got dtype {ids.dtype} "
                    "(use np.zeros(..., dtype=int))")
    if mask.dtype != bool:
        raise Wrong(f"{case.show('pad_batch')}: the mask must be boolean, got dtype {mask.dtype} "
                    "(compare, e.g. ids != 0, or use np.zeros(..., dtype=bool))")
    return detail
