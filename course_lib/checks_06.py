"""Checkers for the exercises of ``06_recurrent_networks``.

Usage in the notebook::

    from course_lib import checks_06 as checks
    checks.rnn_step(rnn_step)

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

def reference_rnn_step(x: np.ndarray, h: np.ndarray, W: np.ndarray, U: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``tanh(W x + U h + b)`` for a batch of rows: x (batch, d), h (batch, n), W (n, d), U (n, n)."""
    return np.tanh(x @ W.T + h @ U.T + b)


def _rnn_cases() -> list[Case]:
    cases = []
    for seed, (batch, d, n) in enumerate([(2, 3, 3), (4, 3, 3), (3, 5, 2), (1, 2, 4)]):
        x, h, W, U, b = _arrays(100 + seed, (batch, d), (batch, n), (n, d), (n, n), (n,))
        cases.append(Case((x, h, W, U, b)))
    return cases


@EXERCISES.exercise(1, "one step of a simple RNN")
def rnn_step(student: Any) -> str:
    """``rnn_step(x, h, W, U, b)`` -> ``tanh(x @ W.T + h @ U.T + b)``."""
    mistakes = [
        Mistake(lambda x, h, W, U, b: np.tanh(x @ U.T + h @ W.T + b),
                "W and U are swapped: W multiplies the input x_t, U the previous state h_{t-1}"),
        Mistake(lambda x, h, W, U, b: x @ W.T + h @ U.T + b,
                "the activation is missing: apply tanh to W x_t + U h_{t-1} + b"),
        Mistake(lambda x, h, W, U, b: np.tanh(x @ W.T + h @ U.T),
                "the bias b is missing: tanh(W x_t + U h_{t-1} + b)"),
        Mistake(lambda x, h, W, U, b: np.tanh(x @ W + h @ U + b),
                "the weights are not transposed: with examples as rows, W x_t is x @ W.T (W has shape (n, d))"),
        Mistake(lambda x, h, W, U, b: np.tanh(x @ W.T + b),
                "the previous state is missing: add U h_{t-1}, the recurrence itself"),
        Mistake(lambda x, h, W, U, b: _sigmoid(x @ W.T + h @ U.T + b),
                "use tanh, not the sigmoid: the simple RNN's state lies in (-1, 1)"),
        Mistake(lambda x, h, W, U, b: np.maximum(0, x @ W.T + h @ U.T + b),
                "use tanh, not ReLU: this chapter's RNN is h_t = tanh(W x_t + U h_{t-1} + b)"),
    ]
    return compare_with_reference(student, reference_rnn_step, _rnn_cases(), mistakes, name="rnn_step")


# --- Exercise 2 ------------------------------------------------------------------------------

def _lstm_variant(order: str = "ifco", gate=_sigmoid, cand=np.tanh, use_old_c: bool = False,
                  swap_return: bool = False, output_gate: bool = True, squash_c: bool = True):
    def step(x, h, c, kernel, recurrent_kernel, bias):
        z = x @ kernel + h @ recurrent_kernel + bias
        blocks = dict(zip(order, np.split(z, 4, axis=-1)))
        i, f, g, o = gate(blocks["i"]), gate(blocks["f"]), cand(blocks["c"]), gate(blocks["o"])
        c_new = f * c + i * g
        shown = c if use_old_c else c_new
        shown = np.tanh(shown) if squash_c else shown
        h_new = o * shown if output_gate else shown
        return (c_new, h_new) if swap_return else (h_new, c_new)

    return step


reference_lstm_step = _lstm_variant()
reference_lstm_step.__doc__ = "One Keras LSTM step (gates i, f, c, o): returns ``(h_new, c_new)``."


def _lstm_cases() -> list[Case]:
    cases = []
    for seed, (batch, d, n) in enumerate([(2, 3, 4), (3, 2, 3), (1, 5, 2)]):
        x, h, c, k, r, b = _arrays(200 + seed, (batch, d), (batch, n), (batch, n), (d, 4 * n), (n, 4 * n), (4 * n,))
        cases.append(Case((x, h, c, k, r, b)))
    return cases


@EXERCISES.exercise(2, "one step of an LSTM")
def lstm_step(student: Any) -> str:
    """``lstm_step(x, h, c, kernel, recurrent_kernel, bias)`` -> ``(h_new, c_new)``, Keras layout."""
    mistakes = [
        Mistake(_lstm_variant(order="fico"), "the input and forget gates are mixed up: Keras' order is "
                "i, f, c, o, and the forget gate multiplies the old cell state (c_new = f * c + i * c~)"),
        Mistake(_lstm_variant(order="ifoc"), "the gate order is i, f, c, o in Keras' kernel: the candidate "
                "c~ is the third block and the output gate the fourth"),
        Mistake(_lstm_variant(order="icfo"), "the gate order is i, f, c, o in Keras' kernel: the forget "
                "gate is the second block"),
        Mistake(_lstm_variant(gate=np.tanh), "the gates i, f, o use the sigmoid (values in 0..1, how much "
                "passes), not tanh; only the candidate c~ uses tanh"),
        Mistake(_lstm_variant(cand=_sigmoid), "the candidate content c~ uses tanh, not the sigmoid"),
        Mistake(_lstm_variant(use_old_c=True), "update the cell first, then the output: h_new = o * tanh(c_new), "
                "with the new cell state"),
        Mistake(_lstm_variant(swap_return=True), "return (h_new, c_new), in that order"),
        Mistake(_lstm_variant(output_gate=False), "the output gate is missing: h_new = o * tanh(c_new)"),
        Mistake(_lstm_variant(squash_c=False), "squash the cell state before the output gate: h_new = o * tanh(c_new)"),
    ]
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    case = _lstm_cases()[0]
    got = student(*case.args)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Wrong(f"{case.show('lstm_step')}: expected a tuple (h_new, c_new), got {describe(got)}")
    return compare_with_reference(student, reference_lstm_step, _lstm_cases(), mistakes, name="lstm_step")


# --- Exercise 3 ------------------------------------------------------------------------------

def _gru_variant(reset_after: bool = True, keep_old: str = "z", order: str = "zrh",
                 biases: str = "both", cand=np.tanh):
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
        if reset_after:
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
