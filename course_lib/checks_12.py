"""Checkers for the exercises of ``12_applications``.

Usage in the notebook::

    from course_lib import checks_12 as checks
    checks.masked_rmse(masked_rmse)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_lib.exercises import Case, ExerciseSet, Mistake, Wrong, compare_with_reference, describe, same

EXERCISES = ExerciseSet("12_applications")
summary = EXERCISES.summary


# --- Exercise 1 ------------------------------------------------------------------------------

def _masked_rmse(ratings: Any, predictions: Any, observed: Any) -> float:
    r, p, m = np.asarray(ratings, float), np.asarray(predictions, float), np.asarray(observed, bool)
    return float(np.sqrt(np.sum(((r - p) ** 2)[m]) / m.sum()))


def _rmse_cases() -> list[Case]:
    rng = np.random.default_rng(1201)
    cases = []
    for users, items, density in ((6, 9, 0.3), (4, 5, 0.5), (10, 7, 0.15), (3, 12, 0.4)):
        observed = rng.random((users, items)) < density
        observed[np.arange(users), rng.integers(0, items, users)] = True      # every user rated something
        observed[0, :] = False
        observed[0, 0] = True                                                 # one user with one rating
        ratings = np.where(observed, rng.integers(1, 6, (users, items)), 0).astype(float)
        predictions = np.clip(3.5 + rng.normal(0, 1.0, (users, items)), 1, 5)
        cases.append(Case((ratings, predictions, observed)))
    return cases


@EXERCISES.exercise(1, "RMSE over the observed ratings only")
def masked_rmse(student: Any) -> str:
    """``masked_rmse(ratings, predictions, observed)`` -> float, sqrt of the mean squared error over observed entries."""
    def sq(r: Any, p: Any) -> np.ndarray:
        return (np.asarray(r, float) - np.asarray(p, float)) ** 2

    def per_user(r: Any, p: Any, m: Any) -> float:
        m = np.asarray(m, bool)
        rows = [np.sqrt(sq(r, p)[u][m[u]].mean()) for u in range(len(m)) if m[u].any()]
        return float(np.mean(rows))

    mistakes = [
        Mistake(lambda r, p, m: float(np.sqrt(np.mean(sq(r, p)))),
                "you averaged over every entry, including the missing ones (whose placeholder 0 is no rating): "
                "keep only the entries where `observed` is True"),
        Mistake(lambda r, p, m: float(np.sqrt(np.sum(sq(r, p) * m) / np.size(m)))
                if np.size(m) else 0.0,
                "you zeroed the missing entries but still divided by the number of *all* entries: divide by "
                "the number of observed ones, observed.sum()"),
        Mistake(lambda r, p, m: float(np.sum(sq(r, p)[np.asarray(m, bool)]) / np.sum(m)),
                "that is the mean squared error; the RMSE is its square root"),
        Mistake(lambda r, p, m: float(np.sqrt(np.sum(sq(r, p)[np.asarray(m, bool)]))),
                "you took the square root of the *sum* of squared errors: divide by the number of observed "
                "entries before the square root"),
        Mistake(lambda r, p, m: float(np.mean(np.abs(np.asarray(r, float) - np.asarray(p, float))[np.asarray(m, bool)])),
                "that is the mean absolute error (MAE); RMSE squares the errors, averages, then takes the root"),
        Mistake(per_user, "you averaged per-user RMSEs; the RMSE pools all observed ratings: "
                "sqrt(sum of squared errors / number of observed entries)"),
    ]
    return compare_with_reference(student, _masked_rmse, _rmse_cases(), mistakes, name="masked_rmse")


# --- Exercise 2 ------------------------------------------------------------------------------

def _ndcg(scores: Any, seen: Any, relevant: Any, k: int, *, exclude: bool = True, top_k: int | None = None,
          discount: str = "log2(r+1)", ideal: str = "min", skip_empty: bool = True, ascending: bool = False) -> float:
    s = -np.asarray(scores, float) if ascending else np.asarray(scores, float)
    seen, rel = np.asarray(seen, bool), np.asarray(relevant, bool)
    if exclude:
        s = np.where(seen, -np.inf, s)
    order = np.argsort(-s, axis=1, kind="stable")[:, : (k if top_k is None else top_k)]
    gains = np.take_along_axis(rel, order, axis=1).astype(float)
    ranks = np.arange(1, gains.shape[1] + 1)
    with np.errstate(divide="ignore"):
        disc = {"log2(r+1)": 1 / np.log2(ranks + 1), "log2(r)": 1 / np.log2(ranks),
                "1/r": 1 / ranks, "none": np.ones_like(ranks, dtype=float)}[discount]
    with np.errstate(invalid="ignore"):
        dcg = (gains * disc).sum(axis=1)
    n_rel = rel.sum(axis=1)
    if ideal == "none":
        idcg = np.ones(len(rel))
    else:
        top = np.minimum(k, n_rel) if ideal == "min" else np.full(len(rel), k) if ideal == "k" else n_rel
        full = 1 / np.log2(np.arange(1, max(int(top.max(initial=0)), 1) + 1) + 1)
        idcg = np.array([full[:t].sum() for t in top])
    has = n_rel > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        per_user = np.where(has, dcg / np.where(has, idcg, 1), 0.0)
    return float(per_user[has].mean() if skip_empty else per_user.mean())


def _ndcg_reference(scores: Any, seen: Any, relevant: Any, k: int) -> float:
    return _ndcg(scores, seen, relevant, k)


def _ndcg_cases() -> list[Case]:
    rng = np.random.default_rng(1202)
    cases = []
    for users, items, k, p_seen, p_rel in ((6, 15, 4, 0.3, 0.3), (8, 20, 5, 0.4, 0.25), (5, 12, 3, 0.2, 0.45),
                                           (7, 25, 6, 0.35, 0.2)):
        scores = rng.normal(size=(users, items))
        seen = rng.random((users, items)) < p_seen
        relevant = (rng.random((users, items)) < p_rel) & ~seen
        seen[:, np.argsort(-scores[0])[:2]] = True          # the top-scored items of user 0 are seen ones ...
        relevant[0, np.argsort(-scores[0])[:2]] = False
        best = np.argsort(-np.where(seen[1], -np.inf, scores[1]))
        relevant[1] = False
        relevant[1, best[[0, 2]]] = True                     # user 1: hits at ranks 1 and 3
        relevant[2] = False                                  # user 2: nothing relevant (skipped)
        cases.append(Case((scores, seen, relevant, k)))
    return cases


@EXERCISES.exercise(2, "NDCG@k for top-k recommendations")
def ndcg_at_k(student: Any) -> str:
    """``ndcg_at_k(scores, seen, relevant, k)`` -> float, mean NDCG@k over users with a relevant item."""
    def variant(**kw: Any) -> Any:
        return lambda s, se, r, k: _ndcg(s, se, r, k, **kw)

    mistakes = [
        Mistake(variant(exclude=False), "already-seen items were recommended: set their scores to -inf "
                "(np.where(seen, -np.inf, scores)) before ranking"),
        Mistake(variant(ascending=True), "you ranked the *lowest* scores first: sort by -scores "
                "(descending)"),
        Mistake(lambda s, se, r, k: _ndcg_topk(s, se, r, k, k + 1),
                "off by one: you kept k + 1 items; keep exactly the first k of the ranking"),
        Mistake(lambda s, se, r, k: _ndcg_topk(s, se, r, k, k - 1),
                "off by one: you kept k - 1 items; keep exactly the first k of the ranking ([:, :k])"),
        Mistake(variant(discount="log2(r)"), "the discount of rank r (counting from 1) is 1 / log2(r + 1): "
                "with 0-based positions i it is 1 / log2(i + 2); 1 / log2(r) divides by log2(1) = 0 at the top"),
        Mistake(variant(discount="1/r"), "the discount is 1 / log2(r + 1), not 1 / r"),
        Mistake(variant(discount="none"), "you gave every hit the same weight, wherever it is ranked: "
                "weigh a hit at rank r by 1 / log2(r + 1)"),
        Mistake(variant(ideal="none"), "you returned DCG; divide each user's DCG by their ideal DCG"),
        Mistake(variant(ideal="k"), "the ideal DCG puts min(k, number of relevant items) hits at the top, "
                "not always k: a user with 2 relevant items can still reach NDCG = 1"),
        Mistake(variant(ideal="all"), "the ideal DCG only counts the first min(k, number of relevant items) "
                "ranks: relevant items beyond rank k cannot be shown"),
        Mistake(variant(skip_empty=False), "users with no relevant test item were counted as 0: average only "
                "over users with at least one relevant item"),
    ]
    return compare_with_reference(student, _ndcg_reference, _ndcg_cases(), mistakes, name="ndcg_at_k")


def _ndcg_topk(scores: Any, seen: Any, relevant: Any, k: int, kept: int) -> float:
    """NDCG whose ideal uses k but whose ranking keeps ``kept`` items (an off-by-one)."""
    s = np.where(np.asarray(seen, bool), -np.inf, np.asarray(scores, float))
    rel = np.asarray(relevant, bool)
    order = np.argsort(-s, axis=1, kind="stable")[:, :max(kept, 0)]
    gains = np.take_along_axis(rel, order, axis=1).astype(float)
    dcg = (gains / np.log2(np.arange(1, gains.shape[1] + 1) + 1)).sum(axis=1)
    n_rel = rel.sum(axis=1)
    idcg = np.array([np.sum(1 / np.log2(np.arange(1, min(k, n) + 1) + 1)) for n in n_rel])
    has = n_rel > 0
    return float(np.mean(dcg[has] / idcg[has]))


# --- Exercise 3 ------------------------------------------------------------------------------

def _frame_count(n: int, length: int, step: int, pad_end: bool) -> int:
    if pad_end:
        return -(-n // step)
    return max(0, 1 + (n - length) // step)


@EXERCISES.exercise(3, "count the frames of an STFT")
def stft_frame_count(student: Any) -> str:
    """``stft_frame_count(n_samples, frame_length, frame_step, pad_end)`` -> int, like ``tf.signal.frame``."""
    cases = [
        Case((2000, 128, 64, False)), Case((2000, 128, 64, True)), Case((1000, 256, 100, False)),
        Case((1000, 256, 100, True)), Case((16000, 400, 160, False)), Case((16000, 400, 160, True)),
        Case((128, 128, 64, False)), Case((100, 128, 64, False)), Case((50, 128, 32, False)), Case((100, 128, 64, True)),
        Case((129, 128, 32, True)),
    ]
    mistakes = [
        Mistake(lambda n, L, s, p: -(-n // s) if p else (n - L) // s,
                "you forgot the + 1: the first frame starts at sample 0, then one more every frame_step "
                "samples, so 1 + (n - L) // S frames fit"),
        Mistake(lambda n, L, s, p: -(-n // s) if p else 1 + (n - L) // s,
                "a signal shorter than one frame gives no frame at all (not a negative count): "
                "return max(0, 1 + (n - L) // S)"),
        Mistake(lambda n, L, s, p: (-(-n // s) if p else max(0, 1 + (n - L) // s)) * 1.0,
                "return an int: a number of frames is a whole number"),
        Mistake(lambda n, L, s, p: (-(-n // s) if p else 1 + (n - L) / s),
                "use floor division //: only whole frames count"),
        Mistake(lambda n, L, s, p: (n // s if p else max(0, 1 + (n - L) // s)),
                "with pad_end=True a frame starts at every hop inside the signal: ceil(n / S) = -(-n // S) "
                "frames, rounding *up*"),
        Mistake(lambda n, L, s, p: max(0, 1 + (n - L) // s),
                "pad_end=True pads the end with zeros, so frames that run past the end still count: "
                "ceil(n / S) frames"),
        Mistake(lambda n, L, s, p: (-(-n // s) if p else n // s),
                "without padding the last frame must fit entirely: 1 + (n - L) // S frames, not n // S"),
    ]
    return compare_with_reference(student, _frame_count, cases, mistakes, name="stft_frame_count")


# --- Exercise 4 ------------------------------------------------------------------------------

def _gaussian_kl(mq: Any, lvq: Any, mp: Any, lvp: Any) -> np.ndarray:
    mq, lvq, mp, lvp = (np.asarray(a, float) for a in (mq, lvq, mp, lvp))
    return 0.5 * np.sum(lvp - lvq + (np.exp(lvq) + (mq - mp) ** 2) / np.exp(lvp) - 1, axis=-1)


def _kl_cases() -> list[Case]:
    rng = np.random.default_rng(1204)
    # First, positive log-variances: there, taking log_var for the variance gives finite (wrong) numbers,
    # so that mistake is recognised by name instead of surfacing as NaN.
    cases = [Case((rng.normal(0, 1, (3, 4)), rng.uniform(0.2, 1.5, (3, 4)), rng.normal(0, 1, (3, 4)),
                   rng.uniform(0.2, 1.5, (3, 4))))]
    for batch, latent in ((4, 3), (5, 2), (3, 6)):
        args = (rng.normal(0, 1, (batch, latent)), rng.normal(0, 0.7, (batch, latent)),
                rng.normal(0, 1, (batch, latent)), rng.normal(0, 0.7, (batch, latent)))
        cases.append(Case(args))
    z = np.zeros((3, 4))
    cases.append(Case((rng.normal(0, 1, (3, 4)), rng.normal(0, 0.7, (3, 4)), z, z)))
    return cases


@EXERCISES.exercise(4, "KL divergence between diagonal Gaussians")
def gaussian_kl(student: Any) -> str:
    """``gaussian_kl(mean_q, log_var_q, mean_p, log_var_p)`` -> (batch,), KL(q || p) summed over the latent axis."""
    def f(kl: Any) -> Any:
        return lambda mq, lvq, mp, lvp: kl(*(np.asarray(a, float) for a in (mq, lvq, mp, lvp)))

    mistakes = [
        Mistake(lambda mq, lvq, mp, lvp: -_gaussian_kl(mq, lvq, mp, lvp),
                "the sign is flipped: a KL divergence is never negative; it is +1/2 * sum(log(var_p / var_q) "
                "+ (var_q + (mu_q - mu_p)^2) / var_p - 1)"),
        Mistake(lambda mq, lvq, mp, lvp: 2 * _gaussian_kl(mq, lvq, mp, lvp), "the factor 1/2 is missing"),
        Mistake(lambda mq, lvq, mp, lvp: _gaussian_kl(mp, lvp, mq, lvq),
                "you computed KL(p || q): the divergence is not symmetric; divide by the *prior's* variance "
                "var_p and take log(var_p / var_q)"),
        Mistake(f(lambda mq, lvq, mp, lvp: 0.5 * np.sum(mq ** 2 + np.exp(lvq) - 1 - lvq, axis=-1)),
                "that is the KL to the standard normal N(0, 1); here the prior has its own mean and log-variance"),
        Mistake(f(lambda mq, lvq, mp, lvp: 0.5 * np.mean(lvp - lvq + (np.exp(lvq) + (mq - mp) ** 2) / np.exp(lvp) - 1,
                                                         axis=-1)),
                "you averaged over the latent dimensions: the KL of independent dimensions is their *sum*"),
        Mistake(f(lambda mq, lvq, mp, lvp: 0.5 * np.sum(np.log(np.abs(lvp) + 1e-300) - np.log(np.abs(lvq) + 1e-300)
                                                        + (lvq + (mq - mp) ** 2) / lvp - 1, axis=-1)),
                "the inputs are *log*-variances: the variance is exp(log_var), and log(var_p / var_q) = "
                "log_var_p - log_var_q"),
        Mistake(f(lambda mq, lvq, mp, lvp: 0.5 * np.sum(lvp - lvq + (lvq + (mq - mp) ** 2) / lvp - 1, axis=-1)),
                "you used the log-variances as variances in (var_q + (mu_q - mu_p)^2) / var_p: the variance "
                "is exp(log_var)"),
        Mistake(f(lambda mq, lvq, mp, lvp: 0.5 * np.sum(np.log(np.abs(lvp) + 1e-300) - np.log(np.abs(lvq) + 1e-300)
                                                        + (np.exp(lvq) + (mq - mp) ** 2) / np.exp(lvp) - 1, axis=-1)),
                "you took log(log_var_p / log_var_q): the inputs are already logarithms, so "
                "log(var_p / var_q) = log_var_p - log_var_q"),
        Mistake(f(lambda mq, lvq, mp, lvp: 0.5 * np.sum(lvp - lvq + (np.exp(lvq) + (mq - mp) ** 2) / np.exp(lvp) - 1)),
                "return one KL per row, shape (batch,): sum over the latent axis only (axis=-1)"),
        Mistake(f(lambda mq, lvq, mp, lvp: 0.5 * np.sum(lvp - lvq + np.exp(lvq) / np.exp(lvp) + (mq - mp) ** 2 - 1,
                                                        axis=-1)),
                "the squared mean difference is also divided by the prior's variance: (var_q + (mu_q - mu_p)^2) / var_p"),
    ]
    detail = compare_with_reference(student, _gaussian_kl, _kl_cases(), mistakes, name="gaussian_kl")
    rng = np.random.default_rng(1205)
    m, lv = rng.normal(size=(5, 3)), rng.normal(0, 0.5, size=(5, 3))
    got = np.asarray(student(m, lv, m, lv), dtype=float)
    if not same(np.zeros(5), got, atol=1e-9):
        raise Wrong(f"gaussian_kl(q, q) should be 0 for every row, got {describe(got)}")
    if not math.isfinite(float(np.sum(got))):
        raise Wrong("gaussian_kl returned a non-finite value")
    return detail + "; KL(q || q) = 0"
