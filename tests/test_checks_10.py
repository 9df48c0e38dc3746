"""The chapter-10 checkers accept the worked solutions and reject the typical mistakes with hints."""

import numpy as np
import pytest
from nbutils import assert_rejects, load_tagged

from course_lib import checks_10 as checks

SOLUTIONS = load_tagged("10_language_models")


# --- Exercise 1 ------------------------------------------------------------------------------

def _nll(logits, targets):
    z = np.asarray(logits, float)
    z = z - z.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return -np.take_along_axis(logp, np.asarray(targets)[..., None], -1)[..., 0]


def _mean_nll(logits, targets, pad_id=0):
    real = np.asarray(targets) != pad_id
    return (_nll(logits, targets) * real).sum(1) / real.sum(1)


def _naive(logits, targets, pad_id=0):
    with np.errstate(all="ignore"):
        e = np.exp(np.asarray(logits, float))
        p = e / e.sum(-1, keepdims=True)
        nll = -np.log(np.take_along_axis(p, np.asarray(targets)[..., None], -1)[..., 0])
        real = np.asarray(targets) != pad_id
        return np.exp((nll * real).sum(1) / real.sum(1))


def _log_of_softmax(logits, targets, pad_id=0):
    """Subtracts the max (no overflow), then takes log of the probabilities (underflow: log 0)."""
    with np.errstate(all="ignore"):
        z = np.asarray(logits, float)
        e = np.exp(z - z.max(-1, keepdims=True))
        p = e / e.sum(-1, keepdims=True)
        nll = -np.log(np.take_along_axis(p, np.asarray(targets)[..., None], -1)[..., 0])
        real = np.asarray(targets) != pad_id
        return np.exp((nll * real).sum(1) / real.sum(1))


def test_sequence_perplexity_rejects_a_batch_wide_shift():
    def batch_max(logits, targets, pad_id=0):
        z = np.asarray(logits, float)
        z = z - z.max()                                   # the whole batch's max, not each row's
        logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
        nll = -np.take_along_axis(logp, np.asarray(targets)[..., None], -1)[..., 0]
        real = np.asarray(targets) != pad_id
        return np.exp((nll * real).sum(1) / real.sum(1))
    with np.errstate(all="ignore"):
        assert_rejects(checks.sequence_perplexity, batch_max, "each row's own max")


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda l, t, pad_id=0: _mean_nll(l, t, pad_id), "its exponential"),
        (lambda l, t, pad_id=0: 2.0 ** _mean_nll(l, t, pad_id), "mixed log bases"),
        (lambda l, t, pad_id=0: np.exp(_mean_nll(l, t, pad_id) * (np.asarray(t) != pad_id).sum(1)), "summed"),
        (lambda l, t, pad_id=0: np.exp(_nll(l, t).mean(1)), "averaged over the padding"),
        (lambda l, t, pad_id=0: np.exp(_mean_nll(l, t, 0)), "use the pad_id argument"),
        (_naive, "overflows"),
        (_log_of_softmax, "you took np.log of the softmax"),
        (lambda l, t, pad_id=0: float(np.exp(_nll(l, t)[np.asarray(t) != pad_id].mean())), "one per sequence"),
        (lambda l, t, pad_id=0: np.exp(_mean_nll(l, t, pad_id)) + 0.01, "values differ"),
    ],
)
def test_sequence_perplexity_rejects(wrong, hint):
    assert_rejects(checks.sequence_perplexity, wrong, hint)


# --- Exercise 2 ------------------------------------------------------------------------------

def _guard(fn):
    def wrapped(q, k):
        if q > k:
            raise ValueError("q_len > k_len")
        return fn(q, k)
    return wrapped


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_guard(lambda q, k: np.tril(np.ones((q, k), bool))), "the *last* q_len positions"),
        (_guard(lambda q, k: np.tril(np.ones((q, k), bool), k - q - 1)), "attend to itself"),
        (_guard(lambda q, k: np.tril(np.ones((q, k), bool), k - q + 1)), "from its future"),
        (_guard(lambda q, k: np.triu(np.ones((q, k), bool), k - q)), "see the future"),
        (_guard(lambda q, k: ~np.tril(np.ones((q, k), bool), k - q)), "*may attend*"),
        (_guard(lambda q, k: np.tril(np.ones((q, k)), k - q)), "boolean"),
        (lambda q, k: np.tril(np.ones((q, k), bool), k - q), "raise ValueError"),
    ],
)
def test_cached_causal_mask_rejects(wrong, hint):
    assert_rejects(checks.cached_causal_mask, wrong, hint)


# --- Exercise 3 ------------------------------------------------------------------------------

def _keep(z, p, descending=True, inclusive=True, on_logits=False):
    z = np.asarray(z, float)
    w = z if on_logits else np.exp(z - z.max(-1, keepdims=True))
    if not on_logits:
        w = w / w.sum(-1, keepdims=True)
    order = np.argsort(-w if descending else w, -1)
    s = np.take_along_axis(w, order, -1)
    c = np.cumsum(s, -1)
    k = (c - s) < p if inclusive else c < p
    keep = np.zeros(z.shape, bool)
    np.put_along_axis(keep, order, k, -1)
    return keep


def _top_p_sorted(z, p):
    z = np.asarray(z, float)
    probs = np.exp(z - z.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    order = np.argsort(-probs, -1)
    s = np.take_along_axis(probs, order, -1)
    return order, np.cumsum(s, -1) - s < p


def _top_p_sorted_mask(z, p):
    """Forgets to scatter the mask back: the sorted-order mask is applied to the original logits."""
    _, keep_sorted = _top_p_sorted(z, p)
    return np.where(keep_sorted, z, -np.inf)


def _top_p_sorted_result(z, p):
    """Returns the kept logits in sorted order."""
    order, keep_sorted = _top_p_sorted(z, p)
    return np.where(keep_sorted, np.take_along_axis(np.asarray(z, float), order, -1), -np.inf)


def test_top_p_filter_rejects_softmax_over_the_batch():
    def over_batch(z, p):
        z = np.asarray(z, float)
        if z.ndim == 1:
            return np.where(_keep(z, p), z, -np.inf)
        probs = np.exp(z - z.max(0)) / np.exp(z - z.max(0)).sum(0)      # axis 0: across the batch
        order = np.argsort(-probs, -1)
        s = np.take_along_axis(probs, order, -1)
        keep = np.zeros(z.shape, bool)
        np.put_along_axis(keep, order, (np.cumsum(s, -1) - s) < p, -1)
        return np.where(keep, z, -np.inf)
    assert_rejects(checks.top_p_filter, over_batch, "batch axis")


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda z, p: np.where(_keep(z, p, inclusive=False), z, -np.inf), "mass *before* it"),
        (lambda z, p: np.where(_keep(z, p, descending=False), z, -np.inf), "*descending*"),
        (lambda z, p: np.where(_keep(z, p, on_logits=True), z, -np.inf), "(softmax)"),
        (lambda z, p: np.where(_keep(z, p), z, 0.0), "-inf"),
        (_top_p_sorted_mask, "still in *sorted* order"),
        (_top_p_sorted_result, "still in *sorted* order"),
        (lambda z, p: np.where(_keep(z, p), np.exp(z) / np.exp(z).sum(-1, keepdims=True), 0.0), "not probabilities"),
    ],
)
def test_top_p_filter_rejects(wrong, hint):
    assert_rejects(checks.top_p_filter, wrong, hint)


# --- Exercise 4 ------------------------------------------------------------------------------

def _encode(word, merges, end=True, reverse=False, first_only=False):
    symbols = list(word) + (["</w>"] if end else [])
    for a, b in (merges[::-1] if reverse else merges):
        out, i, done = [], 0, False
        while i < len(symbols):
            if not done and i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
                out.append(a + b)
                i += 2
                done = first_only
            else:
                out.append(symbols[i])
                i += 1
        symbols = out
    return symbols


def _wordpiece(word, merges):
    vocab = set(word) | {"</w>"} | {a + b for a, b in merges}
    text, out, i = word + "</w>", [], 0
    while i < len(text):
        j = next(j for j in range(len(text), i, -1) if text[i:j] in vocab)
        out.append(text[i:j])
        i = j
    return out


def _replace_on_text(word, merges):            # the typical shortcut: merges as substring replacements
    text = " ".join(list(word) + ["</w>"])
    for a, b in merges:
        text = text.replace(a + " " + b, a + b)
    return text.split()


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda w, m: _encode(w, m, end=False), "end-of-word symbol"),
        (lambda w, m: _encode(w, m, reverse=True), "order they were learned"),
        (lambda w, m: _encode(w, m, first_only=True), "*every* occurrence"),
        (_wordpiece, "longest-match"),
        (_replace_on_text, "str.replace"),
        (lambda w, m: " ".join(_encode(w, m)), "a list of tokens"),
        (lambda w, m: list(w), "expected"),
    ],
)
def test_bpe_encode_rejects(wrong, hint):
    assert_rejects(checks.bpe_encode, wrong, hint)


# --- Exercise 5 ------------------------------------------------------------------------------

def _metric_classes():
    import keras
    from keras import ops

    class Right(keras.metrics.Metric):
        def __init__(self, pad_id=0, name="perplexity", **kwargs):
            super().__init__(name=name, **kwargs)
            self.pad_id = pad_id
            self.total = self.add_variable(shape=(), initializer="zeros", name="total")
            self.count = self.add_variable(shape=(), initializer="zeros", name="count")

        def nll_and_real(self, y_true, y_pred, pad_id):
            y_true = ops.cast(y_true, "int32")
            nll = keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True)
            return nll, ops.cast(ops.not_equal(y_true, pad_id), nll.dtype)

        def update_state(self, y_true, y_pred, sample_weight=None):
            nll, real = self.nll_and_real(y_true, y_pred, self.pad_id)
            self.total.assign_add(ops.sum(nll * real))
            self.count.assign_add(ops.sum(real))

        def result(self):
            return ops.exp(self.total / self.count)

    class MeanOfBatchPerplexities(Right):
        def update_state(self, y_true, y_pred, sample_weight=None):
            nll, real = self.nll_and_real(y_true, y_pred, self.pad_id)
            self.total.assign_add(ops.exp(ops.sum(nll * real) / ops.sum(real)))
            self.count.assign_add(1.0)

        def result(self):
            return self.total / self.count

    class NoMask(Right):
        def update_state(self, y_true, y_pred, sample_weight=None):
            nll, _ = self.nll_and_real(y_true, y_pred, self.pad_id)
            self.total.assign_add(ops.sum(nll))
            self.count.assign_add(ops.cast(ops.size(nll), "float32"))

    class Assigns(Right):
        def update_state(self, y_true, y_pred, sample_weight=None):
            nll, real = self.nll_and_real(y_true, y_pred, self.pad_id)
            self.total.assign(ops.sum(nll * real))
            self.count.assign(ops.sum(real))

    class PadIsZero(Right):
        def update_state(self, y_true, y_pred, sample_weight=None):
            nll, real = self.nll_and_real(y_true, y_pred, 0)
            self.total.assign_add(ops.sum(nll * real))
            self.count.assign_add(ops.sum(real))

    class NoReset(Right):
        def reset_state(self):
            pass

    class NumPyInside(Right):
        def update_state(self, y_true, y_pred, sample_weight=None):
            y, z = np.asarray(y_true), np.asarray(y_pred, float)
            real = y != self.pad_id
            self.total.assign_add(float((_nll(z, y) * real).sum()))
            self.count.assign_add(float(real.sum()))

    class NoSampleWeight(Right):
        def update_state(self, y_true, y_pred):
            super().update_state(y_true, y_pred)

    class Exponent(Right):
        def result(self):
            return self.total / self.count

    return dict(right=Right, batch_ppl=MeanOfBatchPerplexities, no_mask=NoMask, assigns=Assigns,
                pad0=PadIsZero, no_reset=NoReset, numpy=NumPyInside, no_sw=NoSampleWeight, exp=Exponent)


@pytest.mark.parametrize(
    "name, hint",
    [
        ("batch_ppl", "averaged the perplexities of the batches"),
        ("no_mask", "padding positions were counted"),
        ("assigns", "assign_add"),
        ("pad0", "use the pad_id given to the constructor"),
        ("no_reset", "reset_state must set the totals back to 0"),
        ("numpy", "use keras.ops, not NumPy"),
        ("no_sw", "sample_weight=None"),
        ("exp", "its exponential"),
    ],
)
def test_perplexity_metric_rejects(name, hint):
    assert_rejects(checks.Perplexity, _metric_classes()[name], hint)


def test_perplexity_metric_accepts_the_right_class_and_refuses_a_function():
    from course_lib.exercises import PASSED

    assert checks.Perplexity.evaluate(_metric_classes()["right"]).status == PASSED
    assert_rejects(checks.Perplexity, lambda y, z: 1.0, "subclass of keras.metrics.Metric")
