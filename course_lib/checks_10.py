"""Checkers for the exercises of ``10_language_models``.

Usage in the notebook::

    from course_lib import checks_10 as checks
    checks.sequence_perplexity(sequence_perplexity)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from course_lib.exercises import Case, ExerciseSet, Mistake, Wrong, compare_with_reference, describe

EXERCISES = ExerciseSet("10_language_models")
summary = EXERCISES.summary


def _log_softmax(z: Any, axis: int = -1) -> np.ndarray:
    z = np.asarray(z, dtype=float)
    z = z - z.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def _softmax(z: Any) -> np.ndarray:
    return np.exp(_log_softmax(z))


def _quiet(fn: Any) -> Any:
    """``fn`` with NumPy's overflow and invalid-value warnings silenced (typical mistakes overflow)."""
    def quiet(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    return quiet


# --- Exercise 1 ------------------------------------------------------------------------------

def _token_nll(logits: Any, targets: Any, axis: int = -1, stable: bool = True,
               log_of_softmax: bool = False) -> np.ndarray:
    if log_of_softmax:                       # max subtracted, but log taken of the probabilities
        with np.errstate(all="ignore"):
            z = np.asarray(logits, dtype=float)
            e = np.exp(z - z.max(axis=axis, keepdims=True))
            logp = np.log(e / e.sum(axis=axis, keepdims=True))
    elif stable:
        logp = _log_softmax(logits, axis)
    else:
        with np.errstate(all="ignore"):
            e = np.exp(np.asarray(logits, dtype=float))
            logp = np.log(e / e.sum(axis=axis, keepdims=True))
    return -np.take_along_axis(logp, np.asarray(targets)[..., None], axis=-1)[..., 0]


def _batch_max_nll(logits: Any, targets: Any) -> np.ndarray:
    """The mistake: a log-softmax shifted by the whole batch's maximum instead of each row's."""
    with np.errstate(all="ignore"):
        z = np.asarray(logits, dtype=float)
        z = z - z.max()
        logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return -np.take_along_axis(logp, np.asarray(targets)[..., None], axis=-1)[..., 0]


def _sequence_perplexity(logits: Any, targets: Any, pad_id: int = 0) -> np.ndarray:
    nll = _token_nll(logits, targets)
    real = np.asarray(targets) != pad_id
    return np.exp((nll * real).sum(axis=1) / real.sum(axis=1))


def _perplexity_cases() -> list[Case]:
    rng = np.random.default_rng(1010)

    def case(batch: int, steps: int, vocab: int, lengths: Sequence[int], pad: int = 0, scale: float = 1.5,
             kwargs: bool = False, offset: Any = 0.0, pre: bool = False) -> Case:
        logits = rng.normal(size=(batch, steps, vocab)) * scale + np.reshape(offset, (-1, 1, 1))
        ids = [i for i in range(vocab) if i != pad]
        targets = np.full((batch, steps), pad, dtype="int64")
        for b, n in enumerate(lengths):
            if pre:                            # pre-padded rows (Keras' pad_sequences default)
                targets[b, steps - n:] = rng.choice(ids, size=n)
            else:
                targets[b, :n] = rng.choice(ids, size=n)
        return Case((logits, targets), {"pad_id": pad} if kwargs else {})

    return [
        case(3, 6, 7, (6, 3, 4)),
        case(2, 5, 9, (2, 5)),
        case(4, 7, 6, (7, 1, 4, 6), pad=5, kwargs=True),
        case(2, 4, 5, (4, 2), scale=400.0),   # huge differences: exp overflows, small probabilities underflow
        case(2, 4, 5, (3, 4), offset=1000.0),  # huge but close logits: exp overflows, no probability underflows
        case(3, 4, 5, (4, 2, 3), offset=[0.0, 900.0, -900.0]),   # rows with very different maxima
        case(3, 5, 6, (5, 2, 3), pre=True),                      # padding *before* the tokens
        case(2, 5, 6, (2, 5), pad=3, kwargs=True, pre=True),
    ]


@EXERCISES.exercise(1, "the perplexity of each sentence")
def sequence_perplexity(student: Any) -> str:
    """``sequence_perplexity(logits, targets, pad_id=0)`` -> (batch,), exp of each row's mean NLL over real tokens."""
    def masked(logits: Any, targets: Any, pad_id: int, reduce: str = "mean", **kw: Any) -> np.ndarray:
        with np.errstate(all="ignore"):
            nll = _token_nll(logits, targets, **kw)
            real = np.asarray(targets) != pad_id
            total = (nll * real).sum(axis=1)
            return total if reduce == "sum" else total / real.sum(axis=1)

    mistakes = [
        Mistake(lambda l, t, pad_id=0: masked(l, t, pad_id),
                "you returned the mean cross-entropy (in nats); perplexity is its exponential, exp(mean NLL)"),
        Mistake(lambda l, t, pad_id=0: 2.0 ** masked(l, t, pad_id),
                "you mixed log bases: a natural-log cross-entropy goes with exp(), not 2 ** (2 ** goes with log2)"),
        Mistake(lambda l, t, pad_id=0: np.exp(masked(l, t, pad_id) / np.log(2)),
                "you mixed log bases: a cross-entropy in bits (log2) goes with 2 **, not exp()"),
        Mistake(lambda l, t, pad_id=0: np.exp(masked(l, t, pad_id, reduce="sum")),
                "you summed the token losses; perplexity averages them over the sequence's real tokens"),
        Mistake(lambda l, t, pad_id=0: np.exp(_token_nll(l, t).mean(axis=1)),
                "you averaged over the padding too: only positions where targets != pad_id are tokens"),
        Mistake(lambda l, t, pad_id=0: np.exp(masked(l, t, 0)),
                "use the pad_id argument instead of assuming the padding id is 0"),
        Mistake(lambda l, t, pad_id=0: np.exp(masked(l, t, pad_id, stable=False)),
                "your softmax overflows for large logits (exp(400) = inf): subtract each row's max logit "
                "before exponentiating (a stable log-softmax)"),
        Mistake(lambda l, t, pad_id=0: np.exp(masked(l, t, pad_id, log_of_softmax=True)),
                "you took np.log of the softmax: with large logits the small probabilities underflow to 0 "
                "and log(0) = -inf, so the perplexity becomes inf. Compute the log-probabilities directly, "
                "a stable log-softmax: z - max(z) - log(sum(exp(z - max(z))))"),
        Mistake(lambda l, t, pad_id=0: np.exp((_batch_max_nll(l, t) * (np.asarray(t) != pad_id)).sum(axis=1)
                                              / (np.asarray(t) != pad_id).sum(axis=1)),
                "you subtracted the whole batch's maximum: rows whose logits are far below it underflow to "
                "exp(-900) = 0 and log(0) = -inf. Subtract each row's own max (max over the last axis, keepdims=True)"),
        Mistake(lambda l, t, pad_id=0: np.exp(masked(l, t, pad_id, axis=1)),
                "normalize the logits over the vocabulary (the last axis), not over time"),
        Mistake(lambda l, t, pad_id=0: float(np.exp(_token_nll(l, t)[np.asarray(t) != pad_id].mean())),
                "you returned one perplexity for the whole batch; return one per sequence, shape (batch,)"),
        Mistake(lambda l, t, pad_id=0: (np.exp(_token_nll(l, t)) * (np.asarray(t) != pad_id)).sum(axis=1)
                / (np.asarray(t) != pad_id).sum(axis=1),
                "exponentiate the mean loss, not each token's loss (the mean of exp is not exp of the mean)"),
    ]
    mistakes = [Mistake(_quiet(m.fn), m.hint) for m in mistakes]
    return compare_with_reference(student, _sequence_perplexity, _perplexity_cases(), mistakes,
                                  name="sequence_perplexity", rtol=1e-5, atol=1e-8)


# --- Exercise 2 ------------------------------------------------------------------------------

def _causal_mask(q_len: int, k_len: int) -> np.ndarray:
    if q_len > k_len:
        raise ValueError(f"expected q_len <= k_len, got {q_len} > {k_len}")
    return np.tril(np.ones((q_len, k_len), dtype=bool), k=k_len - q_len)


@EXERCISES.exercise(2, "a causal mask for cached keys")
def cached_causal_mask(student: Any) -> str:
    """``cached_causal_mask(q_len, k_len)`` -> (q_len, k_len) bool, [i, j] = j <= k_len - q_len + i; ValueError if q_len > k_len."""
    cases = [Case((4, 4)), Case((1, 5)), Case((3, 7)), Case((2, 3)), Case((1, 1)), Case((5, 3)), Case((0, 3))]
    ones = lambda q, k: np.ones((q, k), dtype=bool)  # noqa: E731
    mistakes = [
        Mistake(lambda q, k: np.tril(ones(q, k)),
                "the queries are the *last* q_len positions: query i sits at position k_len - q_len + i, "
                "so shift the diagonal, np.tril(..., k=k_len - q_len)"),
        Mistake(lambda q, k: np.tril(ones(q, k), k - q - 1),
                "off by one on the diagonal: a position may attend to itself (key j == its own position)"),
        Mistake(lambda q, k: np.tril(ones(q, k), k - q + 1),
                "off by one on the diagonal: each query also sees the next key, a token from its future"),
        Mistake(lambda q, k: np.triu(ones(q, k), k - q),
                "your mask lets queries see the future and hides the past: True belongs on and *below* the "
                "(shifted) diagonal, np.tril"),
        Mistake(lambda q, k: np.tril(ones(k, q), q - k).T if q <= k else np.tril(ones(q, k)),
                "your mask is transposed: rows are queries (q_len of them), columns are keys (k_len)"),
        Mistake(lambda q, k: ~np.tril(ones(q, k), k - q),
                "True must mean *may attend* (the Keras convention), not *masked out*"),
    ]
    detail = compare_with_reference(student, _causal_mask, cases, mistakes, name="cached_causal_mask")
    got = np.asarray(student(3, 7))
    if got.dtype != bool:
        raise Wrong(f"cached_causal_mask(3, 7): the values are right, but return a boolean array, not {got.dtype}")
    return detail


# --- Exercise 3 ------------------------------------------------------------------------------

def _top_p_keep(logits: Any, p: float, descending: bool = True, inclusive: bool = True,
                use_logits: bool = False, unsort: bool = True) -> np.ndarray:
    z = np.asarray(logits, dtype=float)
    weights = z if use_logits else _softmax(z)
    order = np.argsort(-weights if descending else weights, axis=-1, kind="stable")
    sorted_w = np.take_along_axis(weights, order, axis=-1)
    cum = np.cumsum(sorted_w, axis=-1)
    keep_sorted = (cum - sorted_w) < p if inclusive else cum < p
    if not unsort:                           # the mistake: the mask left in sorted order
        return keep_sorted
    keep = np.zeros(z.shape, dtype=bool)
    np.put_along_axis(keep, order, keep_sorted, axis=-1)
    return keep


def _top_p_keep_axis0(logits: Any, p: float) -> np.ndarray:
    """The mistake: the nucleus chosen with the probabilities normalised over the batch axis."""
    z = np.asarray(logits, dtype=float)
    if z.ndim < 2:
        return _top_p_keep(z, p)
    probs = np.exp(z - z.max(axis=0, keepdims=True))
    probs /= probs.sum(axis=0, keepdims=True)
    order = np.argsort(-probs, axis=-1, kind="stable")
    sorted_p = np.take_along_axis(probs, order, axis=-1)
    keep_sorted = (np.cumsum(sorted_p, axis=-1) - sorted_p) < p
    keep = np.zeros(z.shape, dtype=bool)
    np.put_along_axis(keep, order, keep_sorted, axis=-1)
    return keep


def _top_p_filter(logits: Any, p: float) -> np.ndarray:
    z = np.asarray(logits, dtype=float)
    return np.where(_top_p_keep(z, p), z, -np.inf)


def _top_p_cases() -> list[Case]:
    rng = np.random.default_rng(1011)
    return [
        Case((rng.normal(size=8) * 2, 0.5)),
        Case((rng.normal(size=(4, 10)) * 1.5, 0.9)),
        Case((rng.normal(size=(3, 6)) * 3, 0.75)),
        Case((rng.normal(size=(2, 7)), 0.3)),
        Case((rng.normal(size=(2, 5)) * 2, 0.01)),
        Case((rng.normal(size=(2, 5)), 1.0)),
    ]


_SORTED_ORDER_HINT = (
    "your keep-mask (or your result) is still in *sorted* order: after choosing the nucleus among the sorted "
    "probabilities, put the mask back in the original token order before applying it, e.g. "
    "keep = np.zeros(shape, bool); np.put_along_axis(keep, order, keep_sorted, axis=-1), "
    "then np.where(keep, logits, -np.inf)"
)


def _sorted_logits(logits: Any) -> np.ndarray:
    z = np.asarray(logits, dtype=float)
    return np.take_along_axis(z, np.argsort(-z, axis=-1, kind="stable"), axis=-1)


@EXERCISES.exercise(3, "top-p (nucleus) filtering")
def top_p_filter(student: Any) -> str:
    """``top_p_filter(logits, p)`` -> logits outside the smallest set of top tokens with mass >= p set to -inf."""
    def filtered(z: Any, p: float, fill: float = -np.inf, **kw: Any) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        return np.where(_top_p_keep(z, p, **kw), z, fill)

    mistakes = [
        Mistake(lambda z, p: filtered(z, p, inclusive=False),
                "you dropped the token whose probability makes the sum reach p: the nucleus is the smallest "
                "set with mass >= p, so keep a token when the mass *before* it is still < p (and never keep nothing)"),
        Mistake(lambda z, p: filtered(z, p, descending=False),
                "you kept the least probable tokens: sort by *descending* probability"),
        Mistake(lambda z, p: filtered(z, p, use_logits=True),
                "you added up logits; convert them to probabilities (softmax) before the cumulative sum"),
        Mistake(lambda z, p: filtered(z, p, unsort=False),
                _SORTED_ORDER_HINT),
        Mistake(lambda z, p: np.where(_top_p_keep(z, p, unsort=False), _sorted_logits(z), -np.inf),
                _SORTED_ORDER_HINT),
        Mistake(lambda z, p: np.where(_top_p_keep_axis0(z, p), np.asarray(z, dtype=float), -np.inf),
                "you took the softmax (or the sort, or the cumulative sum) over the batch axis: each row is "
                "its own distribution over the vocabulary, so work along the last axis (axis=-1)"),
        Mistake(lambda z, p: filtered(z, p, fill=0.0),
                "set the removed logits to -inf: a logit of 0 still has a probability after the softmax"),
        Mistake(lambda z, p: np.where(_top_p_keep(z, p), _softmax(z), 0.0),
                "return the filtered *logits*, not probabilities"),
        Mistake(lambda z, p: np.where(_top_p_keep(z, p), _softmax(z), -np.inf),
                "return the filtered *logits*, not probabilities"),
    ]
    return compare_with_reference(student, _top_p_filter, _top_p_cases(), mistakes, name="top_p_filter")


# --- Exercise 4 ------------------------------------------------------------------------------

def _merge(symbols: list[str], pair: tuple[str, str], first_only: bool = False) -> list[str]:
    out, i, done = [], 0, False
    while i < len(symbols):
        if not done and i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == tuple(pair):
            out.append(symbols[i] + symbols[i + 1])
            i += 2
            done = first_only
        else:
            out.append(symbols[i])
            i += 1
    return out


def _bpe_encode(word: str, merges: Sequence[tuple[str, str]], end: bool = True, reverse: bool = False,
                first_only: bool = False) -> list[str]:
    symbols = list(word) + (["</w>"] if end else [])
    for pair in (list(merges)[::-1] if reverse else merges):
        symbols = _merge(symbols, pair, first_only)
    return symbols


def _longest_match(word: str, merges: Sequence[tuple[str, str]]) -> list[str]:
    """WordPiece-style greedy longest match against the vocabulary the merges build."""
    vocab = set(word) | {"</w>"} | {a + b for a, b in merges}
    text, out, i = word + "</w>", [], 0
    while i < len(text):
        j = next((j for j in range(len(text), i, -1) if text[i:j] in vocab), i + 1)
        out.append(text[i:j])
        i = j
    return out


def _str_replace(word: str, merges: Sequence[tuple[str, str]]) -> list[str]:
    """The merges done on a space-joined string with ``str.replace``: a pair can match across symbols."""
    text = " ".join(list(word) + ["</w>"])
    for a, b in merges:
        text = text.replace(f"{a} {b}", a + b)
    return text.split(" ")


_MERGES = [("s", "</w>"), ("e", "s</w>"), ("c", "h"), ("o", "o"), ("b", "c"), ("a", "b"), ("t", "e"),
           ("ch", "es</w>"), ("o", "w"), ("te", "a")]


@EXERCISES.exercise(4, "encode a new word with BPE")
def bpe_encode(student: Any) -> str:
    """``bpe_encode(word, merges)`` -> list of tokens: characters + '</w>', merges applied in order to every occurrence."""
    # "abch" and "boow": a merged symbol ("ch", "oo") ends or starts with a letter of a later pair
    cases = [Case((w, _MERGES)) for w in ("teaches", "cows", "oooo", "abc", "book", "x", "abch", "boow", "")]
    cases.append(Case(("dogs", [("d", "o"), ("do", "g"), ("g", "s"), ("dog", "s</w>"), ("s", "</w>")])))
    mistakes = [
        Mistake(lambda w, m: _bpe_encode(w, m, end=False),
                "start from the characters *plus* the end-of-word symbol '</w>': list(word) + ['</w>']"),
        Mistake(lambda w, m: _bpe_encode(w, m, reverse=True),
                "apply the merges in the order they were learned (first learned, first applied)"),
        Mistake(lambda w, m: _bpe_encode(w, m, first_only=True),
                "each merge applies to *every* occurrence of its pair in the word, not only the first"),
        Mistake(_str_replace,
                "merges done with str.replace on a space-joined string match across symbols: in 'b oo w', "
                "the pair ('o', 'w') matches the end of the symbol 'oo'. Compare whole symbols, pair by pair"),
        Mistake(_longest_match,
                "that is greedy longest-match (WordPiece style); BPE replays the merges one by one, in order"),
        Mistake(lambda w, m: " ".join(_bpe_encode(w, m)), "return a list of tokens, not one string"),
        Mistake(lambda w, m: "".join(_bpe_encode(w, m)), "return a list of tokens, not one string"),
    ]
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    return compare_with_reference(student, _bpe_encode, cases, mistakes, name="bpe_encode")


# --- Exercise 5 ------------------------------------------------------------------------------

def _metric_batches(pad: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Three batches of (targets, logits) with very different numbers of real tokens."""
    rng = np.random.default_rng(1012)
    ids = [i for i in range(7) if i != pad]
    batches = []
    for lengths in [(6, 2, 4, 5), (1, 1, 2, 1), (6, 6, 5, 6)]:
        targets = np.full((4, 6), pad, dtype="int32")
        for row, n in enumerate(lengths):
            targets[row, :n] = rng.choice(ids, size=n)
        batches.append((targets, (rng.normal(size=(4, 6, 7)) * 2).astype("float32")))
    return batches


def _metric_candidates(batches: list[tuple[np.ndarray, np.ndarray]], pad: int) -> dict[str, float]:
    """The right value and the values of typical mistakes, for these batches fed in order."""
    nll = [_token_nll(logits, targets) for targets, logits in batches]
    real = [targets != pad for targets, _ in batches]
    sums = np.array([(n * r).sum() for n, r in zip(nll, real)])
    counts = np.array([r.sum() for r in real])
    return {
        "right": float(np.exp(sums.sum() / counts.sum())),
        "mean NLL": float(sums.sum() / counts.sum()),
        "mean of batch perplexities": float(np.mean(np.exp(sums / counts))),
        "mean of batch losses": float(np.exp(np.mean(sums / counts))),
        "padding counted": float(np.exp(np.mean(np.concatenate([n.ravel() for n in nll])))),
        "last batch only": float(np.exp(sums[-1] / counts[-1])),
    }


_METRIC_HINTS = {
    "mean NLL": "result() returned the mean cross-entropy; perplexity is its exponential, exp(total / count)",
    "mean of batch perplexities": "you averaged the perplexities of the batches: accumulate the *sum* of the token "
                                  "losses and the *number* of real tokens over all batches, and exponentiate "
                                  "total / count only in result()",
    "mean of batch losses": "you averaged the batches' mean losses, so a batch with 5 tokens weighs as much as one "
                            "with 23: accumulate the sum of the token losses and the number of real tokens",
    "padding counted": "the padding positions were counted as tokens: multiply the token losses by a mask of "
                       "y_true != pad_id, and count only those positions",
    "last batch only": "the state was overwritten by each batch: update_state must *add* to the totals "
                       "(variable.assign_add), not assign them",
}


def _metric_result(metric: Any) -> float:
    return float(np.asarray(_to_host(metric.result())))


def _to_host(value: Any) -> Any:
    return value.numpy() if hasattr(value, "numpy") else value


def _diagnose(value: float, batches: list, pad: int, where: str) -> None:
    candidates = _metric_candidates(batches, pad)
    if np.isclose(value, candidates["right"], rtol=1e-4):
        return
    for key, hint in _METRIC_HINTS.items():
        if np.isclose(value, candidates[key], rtol=1e-4):
            raise Wrong(f"{where}: got {value:.4f}, expected {candidates['right']:.4f}: {hint}")
    if pad != 0 and np.isclose(value, _metric_candidates(batches, 0)["right"], rtol=1e-4):
        raise Wrong(f"{where}: got {value:.4f}, expected {candidates['right']:.4f}: use the pad_id given to "
                    "the constructor instead of assuming the padding id is 0")
    raise Wrong(f"{where}: got {value:.4f}, expected {candidates['right']:.4f} = exp(sum of the real tokens' "
                "cross-entropies / number of real tokens) over all the batches since the last reset")


@EXERCISES.exercise(5, "a perplexity metric for Keras")
def Perplexity(student: Any) -> str:  # noqa: N802 -- named after the class the student writes
    """``Perplexity(pad_id=0)``, a ``keras.metrics.Metric``: exp(total NLL of the real tokens / their count)
    over all the batches since the last ``reset_state``; works eagerly and inside ``model.evaluate``."""
    import keras

    if not (isinstance(student, type) and issubclass(student, keras.metrics.Metric)):
        raise Wrong(f"expected a subclass of keras.metrics.Metric (class Perplexity(keras.metrics.Metric)), "
                    f"got {describe(student)}")
    try:
        metric = student()
    except NotImplementedError:
        from course_lib.exercises import NotAttempted
        raise NotAttempted from None
    except Exception as err:
        raise Wrong(f"Perplexity() raised {type(err).__name__}: {err}") from None
    batches = _metric_batches()
    try:
        for targets, logits in batches:
            metric.update_state(targets, logits)
        value = _metric_result(metric)
    except NotImplementedError:
        from course_lib.exercises import NotAttempted
        raise NotAttempted from None
    except Exception as err:
        raise Wrong(f"update_state/result raised {type(err).__name__}: {err}") from None
    _diagnose(value, batches, 0, "three batches fed with update_state")

    metric.reset_state()
    metric.update_state(*batches[1])
    value = _metric_result(metric)
    if not np.isclose(value, _metric_candidates(batches[1:2], 0)["right"], rtol=1e-4):
        raise Wrong("after reset_state() and one batch, the result still includes the earlier batches: "
                    "reset_state must set the totals back to 0 (the base class does it for variables made "
                    "with self.add_variable)")

    batches5 = _metric_batches(pad=5)
    try:
        metric5 = student(pad_id=5)
        for targets, logits in batches5:
            metric5.update_state(targets, logits)
    except Exception as err:
        raise Wrong(f"Perplexity(pad_id=5) failed with {type(err).__name__}: {err}") from None
    _diagnose(_metric_result(metric5), batches5, 5, "Perplexity(pad_id=5)")

    # Inside Keras: compiled into a graph by evaluate, fed batch by batch.
    targets = np.concatenate([t for t, _ in batches])
    logits = np.concatenate([z for _, z in batches])
    model = keras.Sequential([keras.Input((6, 7)), keras.layers.Identity()], name="logits_as_they_are")
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=[student()])
    try:
        scores = model.evaluate(logits, targets, batch_size=4, verbose=0, return_dict=True)
    except Exception as err:
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
        raise Wrong(f"model.evaluate with metrics=[Perplexity()] failed ({type(err).__name__}: {first}). Keras "
                    "compiles update_state into a graph: use keras.ops, not NumPy, and accept "
                    "update_state(self, y_true, y_pred, sample_weight=None)") from None
    value = [v for k, v in scores.items() if k != "loss"]
    _diagnose(float(value[0]), batches, 0, "model.evaluate(..., batch_size=4) with metrics=[Perplexity()]")
    return "correct eagerly, after reset_state, with pad_id=5, and inside model.evaluate"
