"""The chapter-12 checkers accept the worked solutions and reject the typical mistakes with hints."""

import numpy as np
import pytest
from nbutils import assert_rejects, load_tagged

from course_lib import checks_12 as checks

SOLUTIONS = load_tagged("12_applications")


# --- Exercise 1: masked_rmse ------------------------------------------------------------------

def _sq(r, p):
    return (np.asarray(r, float) - np.asarray(p, float)) ** 2


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda r, p, m: float(np.sqrt(np.mean(_sq(r, p)))), "including the missing ones"),
        (lambda r, p, m: float(np.sqrt(np.sum(_sq(r, p) * m) / m.size)), "number of *all* entries"),
        (lambda r, p, m: float(np.mean(_sq(r, p)[m])), "square root"),
        (lambda r, p, m: float(np.sqrt(np.sum(_sq(r, p)[m]))), "*sum* of squared errors"),
        (lambda r, p, m: float(np.mean(np.abs(r - p)[m])), "mean absolute error"),
        (lambda r, p, m: float(np.mean([np.sqrt(_sq(r, p)[u][m[u]].mean()) for u in range(len(m)) if m[u].any()])),
         "per-user RMSEs"),
        (lambda r, p, m: float(np.sqrt(np.mean(_sq(r, p)[m]))) + 0.1, "expected"),
    ],
)
def test_masked_rmse_rejects(wrong, hint):
    assert_rejects(checks.masked_rmse, wrong, hint)


# --- Exercise 2: ndcg_at_k --------------------------------------------------------------------

def _ndcg(scores, seen, relevant, k, exclude=True, kept=None, start=2, ideal_k=None, skip=True):
    s = np.where(seen, -np.inf, scores) if exclude else np.asarray(scores, float)
    kept = k if kept is None else kept
    top = np.argsort(-s, axis=1)[:, :kept]
    gains = np.take_along_axis(relevant, top, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        disc = 1 / np.log2(np.arange(kept) + start)
        dcg = (gains * disc).sum(axis=1)
    n = relevant.sum(axis=1)
    full = 1 / np.log2(np.arange(k) + 2)
    ideal = np.array([full[: (ideal_k or min(k, c))].sum() for c in n])
    has = n > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(has, dcg / np.where(has, ideal, 1), 0.0)
    return float(per[has].mean() if skip else per.mean())


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda s, se, r, k: _ndcg(s, se, r, k, exclude=False), "already-seen items"),
        (lambda s, se, r, k: _ndcg(s, se, r, k, kept=k + 1), "kept k + 1"),
        (lambda s, se, r, k: _ndcg(s, se, r, k, kept=k - 1), "kept k - 1"),
        (lambda s, se, r, k: _ndcg(s, se, r, k, start=1), "log2(1) = 0"),
        (lambda s, se, r, k: _ndcg(s, se, r, k, ideal_k=k), "not always k"),
        (lambda s, se, r, k: _ndcg(s, se, r, k, skip=False), "counted as 0"),
        (lambda s, se, r, k: -_ndcg(-np.asarray(s), se, r, k) * -1, "*lowest* scores"),
    ],
)
def test_ndcg_at_k_rejects(wrong, hint):
    assert_rejects(checks.ndcg_at_k, wrong, hint)


# --- Exercise 3: stft_frame_count -------------------------------------------------------------

@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda n, L, s, p: -(-n // s) if p else (n - L) // s, "forgot the + 1"),
        (lambda n, L, s, p: -(-n // s) if p else 1 + (n - L) // s, "shorter than one frame"),
        (lambda n, L, s, p: float(-(-n // s) if p else max(0, 1 + (n - L) // s)), "return an int"),
        (lambda n, L, s, p: n // s if p else max(0, 1 + (n - L) // s), "rounding *up*"),
        (lambda n, L, s, p: max(0, 1 + (n - L) // s), "pads the end with zeros"),
        (lambda n, L, s, p: -(-n // s) if p else n // s, "must fit entirely"),
    ],
)
def test_stft_frame_count_rejects(wrong, hint):
    assert_rejects(checks.stft_frame_count, wrong, hint)


# --- Exercise 4: gaussian_kl ------------------------------------------------------------------

def _kl(mq, lvq, mp, lvp):
    return 0.5 * np.sum(lvp - lvq + (np.exp(lvq) + (mq - mp) ** 2) / np.exp(lvp) - 1, axis=-1)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda mq, lvq, mp, lvp: -_kl(mq, lvq, mp, lvp), "sign is flipped"),
        (lambda mq, lvq, mp, lvp: 2 * _kl(mq, lvq, mp, lvp), "1/2 is missing"),
        (lambda mq, lvq, mp, lvp: _kl(mp, lvp, mq, lvq), "KL(p || q)"),
        (lambda mq, lvq, mp, lvp: 0.5 * np.sum(mq ** 2 + np.exp(lvq) - 1 - lvq, axis=-1), "standard normal"),
        (lambda mq, lvq, mp, lvp: _kl(mq, lvq, mp, lvp) / mq.shape[-1], "averaged over the latent"),
        (lambda mq, lvq, mp, lvp: np.sum(_kl(mq, lvq, mp, lvp)), "shape (batch,)"),
        (lambda mq, lvq, mp, lvp: 0.5 * np.sum(lvp - lvq + np.exp(lvq - lvp) + (mq - mp) ** 2 - 1, axis=-1),
         "also divided by the prior's variance"),
        # log-variances used as variances (issue 13), written as a student would: NaN where a log-variance is negative
        (lambda mq, lvq, mp, lvp: 0.5 * np.sum(np.log(lvp / lvq) + (lvq + (mq - mp) ** 2) / lvp - 1, axis=-1),
         "*log*-variances"),
        (lambda mq, lvq, mp, lvp: 0.5 * np.sum(lvp - lvq + (lvq + (mq - mp) ** 2) / lvp - 1, axis=-1),
         "log-variances as variances"),
        (lambda mq, lvq, mp, lvp: 0.5 * np.sum(np.log(lvp / lvq) + (np.exp(lvq) + (mq - mp) ** 2) / np.exp(lvp) - 1,
                                               axis=-1),
         "already logarithms"),
    ],
)
def test_gaussian_kl_rejects(wrong, hint):
    assert_rejects(checks.gaussian_kl, wrong, hint)


def test_gaussian_kl_nonzero_self_divergence_is_rejected():
    def almost(mq, lvq, mp, lvp):
        return _kl(mq, lvq, mp, lvp) + np.where(np.allclose(mq, mp), 0.5, 0.0)

    assert_rejects(checks.gaussian_kl, almost, "should be 0")
