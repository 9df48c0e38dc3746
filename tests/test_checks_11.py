"""The chapter-11 checkers accept the worked solutions and reject the typical mistakes with hints."""

import math

import numpy as np
import pytest
from nbutils import assert_rejects, load_tagged

from course_lib import checks_11 as checks


SOLUTIONS = load_tagged("11_reinforcement_learning")


# --- Exercise 1: discounted_returns -----------------------------------------------------------

def _returns(rewards, dones, gamma, reset=True, forward=False, own=True, reset_after=False):
    rewards, dones = np.asarray(rewards, float), np.asarray(dones, bool)
    out, g = np.zeros(len(rewards)), 0.0
    order = range(len(rewards)) if forward else reversed(range(len(rewards)))
    for i in order:
        if reset and not forward and not reset_after and dones[i]:
            g = 0.0
        if own:
            g = rewards[i] + gamma * g
            out[i] = g
        else:
            out[i] = g
            g = rewards[i] + gamma * g
        if reset and (forward or reset_after) and dones[i]:
            g = 0.0
    return out


def test_discounted_returns_reference_is_correct():
    assert SOLUTIONS["discounted_returns"]([1.0, 1.0, 1.0, 2.0], [False, True, False, True], 0.5).tolist() == \
        [1.5, 1.0, 2.0, 2.0]


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda r, d, g: _returns(r, d, 1.0), "no discounting"),
        (lambda r, d, g: _returns(r, d, g, reset=False), "leaks into the next episode"),
        (lambda r, d, g: _returns(r, d, g, forward=True), "accumulated forwards"),
        (lambda r, d, g: _returns(r, d, g, own=False), "off by one: G_i starts with the reward of step i"),
        (lambda r, d, g: _returns(r, d, g, reset_after=True), "*before* computing G_i"),
        (lambda r, d, g: np.cumsum(np.asarray(r, float)[::-1])[::-1], "no discounting, and the return leaks"),
        (lambda r, d, g: _returns(r, d, g) + 0.01, "values differ"),
        (lambda r, d, g: _returns(r, d, g)[0], "expected shape"),
    ],
)
def test_discounted_returns_rejects(wrong, hint):
    assert_rejects(checks.discounted_returns, wrong, hint)


# --- Exercise 2: q_learning_update ------------------------------------------------------------

def _update(Q, s, a, r, s_next, term, alpha, gamma, best=None, live=True, whole=False, inverted=False):
    Q = np.asarray(Q, float)
    future = Q[s_next].max(axis=1) if best is None else best(Q, s, a, s_next)
    mask = 1.0 - np.asarray(term, float) if live else 1.0
    if inverted:
        mask = np.asarray(term, float)
    target = mask * (r + gamma * future) if whole else r + gamma * mask * future
    new = Q.copy()
    new[s, a] += alpha * (target - Q[s, a])
    return new


def _in_place(Q, s, a, r, s_next, term, alpha, gamma):
    Q[s, a] += alpha * (r + gamma * (1.0 - term) * Q[s_next].max(axis=1) - Q[s, a])
    return Q


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda *x: _update(*x, best=lambda Q, s, a, s2: Q[s].max(axis=1)), "*next* state's actions"),
        (lambda *x: _update(*x, live=False), "multiply the bootstrap term by (1 - terminated)"),
        (lambda *x: _update(*x, whole=True), "the reward r of the last step still counts"),
        (lambda *x: _update(*x, inverted=True), "the terminal mask is inverted"),
        (lambda *x: _update(*x, best=lambda Q, s, a, s2: np.max(Q[s2])), "the max over the whole batch"),
        (lambda *x: _update(*x, best=lambda Q, s, a, s2: Q[s2].mean(axis=1)), "*max* over next actions"),
        (lambda *x: _update(*x, best=lambda Q, s, a, s2: Q[s2, a]), "the same action again"),
        (lambda Q, s, a, r, s2, t, al, g: _update(Q, s, a, r, s2, t, 0.5 * al, g), "values differ"),
        (_in_place, "changed the Q you passed in"),
        (lambda *x: None, "returned None"),
    ],
)
def test_q_learning_update_rejects(wrong, hint):
    assert_rejects(checks.q_learning_update, wrong, hint)


def test_q_learning_update_replaced_by_target():
    def replace(Q, s, a, r, s_next, term, alpha, gamma):
        new = np.array(Q, float)
        new[s, a] = r + gamma * (1.0 - np.asarray(term, float)) * new[s_next].max(axis=1)
        return new

    assert_rejects(checks.q_learning_update, replace, "move only a step alpha towards it")


# --- Exercise 3: puct_score -------------------------------------------------------------------

def _q(w, n):
    return w / n if n else 0.0


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda w, n, p_n, p, c: _q(w, n) + c * p * math.sqrt(math.log(p_n)) / (1 + n), "UCT's exploration term"),
        (lambda w, n, p_n, p, c: _q(w, n) + c * p * p_n / (1 + n), "square root is missing"),
        (lambda w, n, p_n, p, c: _q(w, n) + c * math.sqrt(p_n) / (1 + n), "prior P is missing"),
        (lambda w, n, p_n, p, c: w + c * p * math.sqrt(p_n) / (1 + n), "*mean* value W / N"),
        (lambda w, n, p_n, p, c: w / n + c * p * math.sqrt(p_n) / (1 + n), "use Q = 0 for it"),
        (lambda w, n, p_n, p, c: _q(w, n) + c * p * math.sqrt(p_n) / n, "divide by 1 + N, not N"),
        (lambda w, n, p_n, p, c: _q(w, n) + c * p * math.sqrt(p_n / (1 + n)), "only N_parent is under"),
        (lambda w, n, p_n, p, c: _q(w, n) - c * p * math.sqrt(p_n) / (1 + n), "expected"),
    ],
)
def test_puct_score_rejects(wrong, hint):
    assert_rejects(checks.puct_score, wrong, hint)


# --- Exercise 4: epsilon_greedy_probs ---------------------------------------------------------

def _probs(q, e, greedy_share=True, argfn=np.argmax):
    q = np.asarray(q, float)
    p = np.full(q.shape, e / q.size)
    if greedy_share:
        p[argfn(q)] += 1.0 - e
    else:
        p[argfn(q)] = 1.0 - e
    return p


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda q, e: _probs(q, e, greedy_share=False), "gets 1 - ε + ε/n"),
        (lambda q, e: _probs(q, 1.0 - e), "swapped ε and 1 - ε"),
        (lambda q, e: _probs(q, e, argfn=np.argmin), "*largest*"),
        (lambda q, e: np.full(len(q), 1.0 / len(q)), "uniform random policy"),
        (lambda q, e: int(np.argmax(q)), "returned one number"),
        (lambda q, e: np.where(np.asarray(q) == np.max(q), 1.0 - e, e / (len(q) - 1)), "other actions only"),
    ],
)
def test_epsilon_greedy_probs_rejects(wrong, hint):
    assert_rejects(checks.epsilon_greedy_probs, wrong, hint)


def test_epsilon_greedy_ties_go_to_the_first_maximum():
    def split(q, e):
        q = np.asarray(q, float)
        best = q == q.max()
        return np.full(q.shape, e / q.size) + (1.0 - e) * best / best.sum()

    assert_rejects(checks.epsilon_greedy_probs, split, "the first of them")


def test_epsilon_greedy_every_tied_maximum_gets_the_greedy_share():
    def every_tie(q, e):
        q = np.asarray(q, float)
        return np.full(q.shape, e / q.size) + (1.0 - e) * (q == q.max())

    assert_rejects(checks.epsilon_greedy_probs, every_tie, "the probabilities must sum to 1")


def test_student_exception_is_reported_not_raised():
    def broken(q, e):
        return undefined_name  # noqa: F821

    result = checks.epsilon_greedy_probs.evaluate(broken)
    assert "NameError" in result.message


# --- Exercise 5: ppo_clip_objective -----------------------------------------------------------

def _ppo(ln, lo, a, e, ratio=None, combine=np.minimum, reduce=np.mean, sign=1.0):
    ln, lo, a = (np.asarray(v, float) for v in (ln, lo, a))
    rho = np.exp(ln - lo) if ratio is None else ratio(ln, lo)
    return sign * float(reduce(combine(rho * a, np.clip(rho, 1 - e, 1 + e) * a)))


def test_ppo_clip_objective_accepts_tensorflow():
    import tensorflow as tf

    def ppo_tf(ln, lo, a, e):
        rho = tf.exp(tf.constant(ln, tf.float64) - tf.constant(lo, tf.float64))
        a = tf.constant(a, tf.float64)
        return tf.reduce_mean(tf.minimum(rho * a, tf.clip_by_value(rho, 1 - e, 1 + e) * a))

    assert checks.ppo_clip_objective.evaluate(ppo_tf).status == "passed"
    assert checks.ppo_clip_objective.evaluate(SOLUTIONS["ppo_clip_objective"]).status == "passed"


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda ln, lo, a, e: _ppo(ln, lo, a, e, combine=lambda u, c: u), "no clipping"),
        (lambda ln, lo, a, e: _ppo(ln, lo, a, e, combine=lambda u, c: c), "the min is missing"),
        (lambda ln, lo, a, e: _ppo(ln, lo, a, e, combine=np.maximum), "max instead of min"),
        (lambda ln, lo, a, e: _ppo(ln, lo, a, e, ratio=lambda n, o: np.exp(o - n)), "upside down"),
        (lambda ln, lo, a, e: _ppo(ln, lo, a, e, ratio=lambda n, o: n / o), "not log_probs_new / log_probs_old"),
        (lambda ln, lo, a, e: _ppo(ln, lo, a, e, ratio=lambda n, o: n - o), "exp is missing"),
        (lambda ln, lo, a, e: _ppo(ln, lo, a, e, sign=-1.0), "you returned the loss"),
        (lambda ln, lo, a, e: _ppo(ln, lo, a, e, reduce=np.sum), "not the sum"),
        (lambda ln, lo, a, e: _ppo(ln, lo, a, e, combine=lambda u, c: c, sign=-1.0), "minus the clipped term"),
        (lambda ln, lo, a, e: _ppo(ln, lo, a, 0.2), "expected"),                 # ignores clip_epsilon
        (lambda ln, lo, a, e: _ppo(ln, lo, a, e) + 1e-3, "expected"),
    ],
)
def test_ppo_clip_objective_rejects(wrong, hint):
    assert_rejects(checks.ppo_clip_objective, wrong, hint)
