"""The chapter-07 checkers accept the worked solutions and reject the typical mistakes with hints."""

import numpy as np
import pytest
from nbutils import assert_rejects as rejects, load_tagged

from course_lib import checks_07 as checks
from course_lib.exercises import PASSED

SOLUTIONS = load_tagged("07_attention")


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def naive_softmax(z):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp(z) / np.exp(z).sum(-1, keepdims=True)


def global_shift_softmax(z):
    with np.errstate(invalid="ignore"):
        e = np.exp(z - z.max())
        return e / e.sum(-1, keepdims=True)


def swap(k):
    return np.swapaxes(k, -1, -2)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda q, k, v: softmax(q @ swap(k) / np.sqrt(q.shape[-1]), axis=-2) @ v, "wrong axis"),
        (lambda q, k, v: softmax(q @ swap(k)) @ v, "not scaled"),
        (lambda q, k, v: softmax(q @ swap(k) / q.shape[-1]) @ v, "divided by d_k"),
        (lambda q, k, v: softmax(q @ swap(k) * np.sqrt(q.shape[-1])) @ v, "multiplied the scores"),
        (lambda q, k, v: softmax(q @ swap(k) / np.sqrt(v.shape[-1])) @ v, "not of the values"),
        (lambda q, k, v: softmax(q @ swap(k) / np.sqrt(q.shape[-1])), "returned the weights"),
        (lambda q, k, v: (softmax(q @ swap(k) / np.sqrt(q.shape[-1])) @ v, None), "return only the output"),
        (lambda q, k, v: softmax(q @ k.T / np.sqrt(q.shape[-1])) @ v, "np.swapaxes(k, -1, -2)"),
        (lambda q, k, v: softmax(q @ swap(k) / np.sqrt(q.shape[-1])) @ v + q, "raised ValueError"),
        (lambda q, k, v: softmax(q @ swap(k) / np.sqrt(q.shape[-1]), axis=0) @ v, "axis 0, the batch"),
        (lambda q, k, v: softmax(q @ swap(k) / np.sqrt(q.shape[-1])) @ k, "not the keys"),
        (lambda q, k, v: naive_softmax(q @ swap(k) / np.sqrt(q.shape[-1])) @ v, "overflow"),
        (lambda q, k, v: global_shift_softmax(q @ swap(k) / np.sqrt(q.shape[-1])) @ v, "each row's own maximum"),
    ],
)
def test_scaled_dot_product_attention_rejects(wrong, hint):
    rejects(checks.scaled_dot_product_attention, wrong, hint)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda s, m: softmax(s) * m, "after the softmax"),
        (lambda s, m: softmax(np.where(m, s, 0.0)), "large negative number"),
        (lambda s, m: softmax(s * m), "large negative number"),
        (lambda s, m: softmax(np.where(m, -1e9, s)), "inverted"),
        (lambda s, m: softmax(s + m * -1e9), "inverted"),
        (lambda s, m: softmax(np.where(m, s, -1e9), axis=-2), "wrong axis"),
        (lambda s, m: softmax(s), "not applied"),
        (lambda s, m: softmax(np.where(m, s, -100.0)), "large negative number"),
        (lambda s, m: softmax(np.where(m, s, s.min(-1, keepdims=True) - 30.0)), "not exactly 0"),
        (lambda s, m: softmax(np.where(m, s, -1e9), axis=0), "axis 0, the batch"),
        (lambda s, m: naive_softmax(np.where(m, s, -1e9)), "overflow"),
        (lambda s, m: global_shift_softmax(np.where(m, s, -1e9)), "each row's own maximum"),
    ],
)
def test_masked_softmax_rejects(wrong, hint):
    rejects(checks.masked_softmax, wrong, hint)


def test_masked_softmax_accepts_minus_infinity_and_renormalising():
    assert checks.masked_softmax.evaluate(lambda s, m: softmax(np.where(m, s, -np.inf))).status == PASSED

    def renormalised(s, m):
        w = softmax(s) * m
        return w / w.sum(-1, keepdims=True)

    assert checks.masked_softmax.evaluate(renormalised).status == PASSED


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda n: np.tril(np.ones((n, n), bool), k=-1), "diagonal is missing"),
        (lambda n: np.tril(np.ones((n, n), bool), k=1), "off by one"),
        (lambda n: np.triu(np.ones((n, n), bool)), "transposed"),
        (lambda n: np.triu(np.ones((n, n), bool), k=1), "inverted"),
        (lambda n: np.ones((n, n), bool), "values differ"),
    ],
)
def test_causal_mask_rejects(wrong, hint):
    rejects(checks.causal_mask, wrong, hint)


def test_causal_mask_rejects_integers():
    """The exercise asks for a boolean array (issue 13): a 0/1 int mask breaks ~mask and indexing."""
    rejects(checks.causal_mask, lambda n: np.tril(np.ones((n, n), int)), "the mask must have dtype bool")


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, h: x.reshape(x.shape[0], h, x.shape[1], x.shape[2] // h), "reshape alone"),
        (lambda x, h: x.reshape(x.shape[0], x.shape[1], h, x.shape[2] // h), "before time"),
        (lambda x, h: x.reshape(x.shape[0], x.shape[1], x.shape[2] // h, h).transpose(0, 3, 1, 2), "consecutive"),
        (lambda x, h: x.reshape(x.shape[0], x.shape[1], h, x.shape[2] // h).transpose(0, 2, 3, 1), "last two axes"),
    ],
)
def test_split_heads_rejects(wrong, hint):
    rejects(checks.split_heads, wrong, hint)


def test_split_heads_must_refuse_uneven_heads():
    def floors(x, h):  # silently drops features when d_model % h != 0
        b, t, e = x.shape
        d = e // h
        return x[..., : h * d].reshape(b, t, h, d).transpose(0, 2, 1, 3)

    rejects(checks.split_heads, floors, "expected it to raise ValueError")
