"""Checkers for the exercises of ``11_reinforcement_learning``.

Usage in the notebook::

    from course_lib import checks_11 as checks
    checks.discounted_returns(discounted_returns)

The references follow Sutton & Barto, *Reinforcement Learning: An Introduction* (2nd ed., 2018):
returns (eq. 3.9), Q-learning (eq. 6.8), ε-greedy policies (§2.2, §5.4); and Silver et al. (2017,
*Mastering the game of Go without human knowledge*) for the PUCT score.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_lib.exercises import Case, ExerciseSet, Mistake, Wrong, compare_with_reference, describe

EXERCISES = ExerciseSet("11_reinforcement_learning")
summary = EXERCISES.summary


# --- Exercise 1 ------------------------------------------------------------------------------

def _returns(rewards, dones, gamma, *, reset=True, forward=False, own=True, absolute=False, shift=False):
    """Returns-to-go of a flat stream, with switches reproducing the typical mistakes."""
    r = np.asarray(rewards, dtype=float)
    d = np.asarray(dones, dtype=bool)
    n = len(r)
    out = np.zeros(n)
    if absolute:  # G_i = Σ_{k ≥ i, same episode} γ^k r_k (discount by the stream's index)
        for i in range(n):
            g, k = 0.0, i
            while k < n:
                g += gamma ** k * r[k]
                if d[k]:
                    break
                k += 1
            out[i] = g
        return out
    if forward:  # accumulated from the start of the episode: g_i = r_i + γ g_{i-1}
        g = 0.0
        for i in range(n):
            g = r[i] + gamma * g
            out[i] = g
            if d[i] and reset:
                g = 0.0
        return out
    g = 0.0
    for i in reversed(range(n)):
        if reset:
            end = (d[i + 1] if i + 1 < n else True) if shift else d[i]
            if end:
                g = 0.0
        if own:
            g = r[i] + gamma * g
            out[i] = g
        else:  # G_i from the next step on: the reward of step i left out
            out[i] = g
            g = r[i] + gamma * g
    return out


def _discounted_returns(rewards, dones, gamma):
    return _returns(rewards, dones, gamma)


def _return_cases() -> list[Case]:
    rng = np.random.default_rng(1101)
    cases = [
        Case(([1.0, 1.0, 1.0], [False, False, True], 0.9)),
        Case(([0.0, 0.0, 1.0, 1.0, 0.0, 2.0], [False, False, True, False, False, True], 0.5)),
    ]
    for n, gamma in [(10, 0.9), (25, 0.99), (12, 0.7)]:
        rewards = rng.normal(size=n).round(2)
        dones = rng.random(n) < 0.25
        dones[-1] = True
        cases.append(Case((rewards, dones, gamma)))
    cases.append(Case(([1.0, 2.0, 3.0, 4.0], [True, True, True, True], 0.9)))
    cases.append(Case(([], [], 0.9)))                                    # an empty buffer: no returns
    return cases


@EXERCISES.exercise(1, "discounted returns in a stream of episodes")
def discounted_returns(student: Any) -> str:
    """``discounted_returns(rewards, dones, gamma)`` -> G_i = r_i + γ r_{i+1} + … within each episode."""
    mistakes = [
        Mistake(lambda r, d, g: _returns(r, d, 1.0), "no discounting: each later reward must be multiplied "
                "by one more factor of gamma (G_i = r_i + gamma * G_{i+1})"),
        Mistake(lambda r, d, g: _returns(r, d, g, reset=False), "the return leaks into the next episode: "
                "restart the sum at every step whose `done` is True (G_i = r_i when step i ends its episode)"),
        Mistake(lambda r, d, g: _returns(r, d, 1.0, reset=False), "no discounting, and the return leaks into "
                "the next episode"),
        Mistake(lambda r, d, g: _returns(r, d, g, forward=True), "you accumulated forwards, from the start of "
                "each episode: a return-to-go sums the rewards that come *after*, so loop backwards"),
        Mistake(lambda r, d, g: _returns(r, d, g, forward=True, reset=False), "you accumulated forwards over "
                "the whole stream: loop backwards, and restart at every `done`"),
        Mistake(lambda r, d, g: _returns(r, d, g, own=False), "off by one: G_i starts with the reward of step i "
                "itself, r_i, then adds gamma * G_{i+1}"),
        Mistake(lambda r, d, g: _returns(r, d, g, shift=True), "off by one at the episode boundaries: `dones[i]` "
                "means step i is the *last* step of its episode, so G_i = r_i there: reset the running sum "
                "*before* computing G_i at a done step, not after"),
        Mistake(lambda r, d, g: _returns(r, d, g, absolute=True), "the discount counts from the start of the "
                "stream (gamma ** k): it must count from step i, gamma ** (k - i)"),
    ]
    return compare_with_reference(student, _discounted_returns, _return_cases(), mistakes,
                                  name="discounted_returns", rtol=1e-6, atol=1e-9)


# --- Exercise 2 ------------------------------------------------------------------------------

def _q_update(Q, s, a, r, s_next, terminated, alpha, gamma, *, future=None, mask="future", step=True, sign=1.0):
    Q = np.asarray(Q, dtype=float)
    s, a, s_next = (np.asarray(v, dtype=int) for v in (s, a, s_next))
    r = np.asarray(r, dtype=float)
    live = 1.0 - np.asarray(terminated, dtype=float)
    best = Q[s_next].max(axis=1) if future is None else future(Q, s, a, s_next)
    if mask == "future":
        target = r + gamma * live * best
    elif mask == "inverted":  # (1 - terminated) mixed up with terminated
        target = r + gamma * (1.0 - live) * best
    elif mask == "none":
        target = r + gamma * best
    else:  # the whole target masked, reward included
        target = live * (r + gamma * best)
    new = Q.copy()
    new[s, a] = Q[s, a] + sign * alpha * (target - Q[s, a]) if step else target
    return new


def _q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):
    return _q_update(Q, s, a, r, s_next, terminated, alpha, gamma)


def _q_cases() -> list[Case]:
    rng = np.random.default_rng(1102)
    cases = []
    for n_states, n_actions, batch, alpha, gamma in [(5, 3, 4, 0.5, 0.9), (16, 4, 8, 0.1, 0.99),
                                                     (6, 2, 5, 1.0, 0.8), (10, 4, 10, 0.3, 0.95)]:
        Q = rng.normal(size=(n_states, n_actions)).round(3)
        pairs = rng.choice(n_states * n_actions, size=batch, replace=False)
        s, a = pairs // n_actions, pairs % n_actions
        s_next = rng.integers(n_states, size=batch)
        r = rng.normal(size=batch).round(2)
        terminated = rng.random(batch) < 0.4
        terminated[0], terminated[-1] = True, False
        cases.append(Case((Q, s, a, r, s_next, terminated, alpha, gamma)))
    return cases


def _copied(args: tuple) -> tuple:
    return tuple(np.array(v, copy=True) if isinstance(v, np.ndarray) else v for v in args)


@EXERCISES.exercise(2, "a batch of Q-learning updates")
def q_learning_update(student: Any) -> str:
    """``q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma)`` -> the updated table (a new array)."""
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    cases = _q_cases()
    args = _copied(cases[0].args)
    got = student(*args)
    if got is None:
        raise Wrong("your function returned None: return the updated table, e.g. start with Q_new = Q.copy()")
    if not np.array_equal(args[0], cases[0].args[0]):
        raise Wrong("your function changed the Q you passed in: work on a copy (Q_new = Q.copy()) and return it")
    mistakes = [
        Mistake(lambda *a: _q_update(*a, future=lambda Q, s, act, s2: Q[s].max(axis=1)),
                "the max is over the *next* state's actions, max_a' Q(s_next, a'), not over the current state's"),
        Mistake(lambda *a: _q_update(*a, mask="none"), "a terminated transition has no future: multiply the "
                "bootstrap term by (1 - terminated)"),
        Mistake(lambda *a: _q_update(*a, mask="all"), "(1 - terminated) must multiply only the future term "
                "gamma * max Q(s_next, .): the reward r of the last step still counts"),
        Mistake(lambda *a: _q_update(*a, mask="inverted"), "the terminal mask is inverted: the future term is "
                "multiplied by (1 - terminated), so it vanishes when terminated is True and counts otherwise"),
        Mistake(lambda *a: _q_update(*a, future=lambda Q, s, act, s2: np.full(len(s2), Q[s2].max())),
                "np.max(Q[s_next]) is one number, the max over the whole batch: each transition needs the max over "
                "its own next state's actions, Q[s_next].max(axis=1)"),
        Mistake(lambda *a: _q_update(*a, future=lambda Q, s, act, s2: Q[s2].mean(axis=1)),
                "Q-learning bootstraps with the *max* over next actions (the greedy policy), not their mean"),
        Mistake(lambda *a: _q_update(*a, future=lambda Q, s, act, s2: Q[s2, act]),
                "you used Q(s_next, a), the same action again: Q-learning uses max_a' Q(s_next, a')"),
        Mistake(lambda *a: _q_update(*a, future=lambda Q, s, act, s2: Q.max(axis=0)[act]),
                "take the max along the action axis of the next states' rows, Q[s_next].max(axis=1)"),
        Mistake(lambda *a: _q_update(*a, step=False), "you replaced Q(s, a) by the target: move only a step "
                "alpha towards it, Q + alpha * (target - Q)"),
        Mistake(lambda *a: _q_update(*a, sign=-1.0), "sign: move *towards* the target, Q + alpha * (target - Q)"),
    ]

    return compare_with_reference(student, _q_learning_update, cases, mistakes, name="q_learning_update",
                                  rtol=1e-6, atol=1e-9)


# --- Exercise 3 ------------------------------------------------------------------------------

def _puct(w, n, n_parent, prior, c):
    q = w / n if n > 0 else 0.0
    return q + c * prior * math.sqrt(n_parent) / (1 + n)


def _puct_cases() -> list[Case]:
    return [Case(args) for args in [
        (3.0, 5, 20, 0.3, 1.5), (0.0, 0, 10, 0.5, 1.0), (-2.0, 4, 50, 0.1, 2.0),
        (7.5, 10, 100, 0.05, 1.25), (0.0, 0, 1, 0.9, 1.0), (1.0, 1, 2, 0.2, 0.5),
    ]]


@EXERCISES.exercise(3, "AlphaZero's PUCT score")
def puct_score(student: Any) -> str:
    """``puct_score(total_value, visits, parent_visits, prior, c)`` -> W/N (0 if N = 0) + c P sqrt(N_parent) / (1 + N)."""
    def mean_q(w, n):
        return w / n if n > 0 else 0.0

    mistakes = [
        Mistake(lambda w, n, np_, p, c: mean_q(w, n) + c * p * math.sqrt(math.log(np_)) / (1 + n),
                "that is UCT's exploration term, sqrt(ln N_parent): PUCT uses sqrt(N_parent) itself"),
        Mistake(lambda w, n, np_, p, c: mean_q(w, n) + c * p * np_ / (1 + n),
                "the square root is missing: the bonus grows like sqrt(N_parent)"),
        Mistake(lambda w, n, np_, p, c: mean_q(w, n) + c * p * math.sqrt(np_ / (1 + n)),
                "only N_parent is under the square root: c * P * sqrt(N_parent) / (1 + N)"),
        Mistake(lambda w, n, np_, p, c: mean_q(w, n) + c * p * math.sqrt(np_) / n,
                "divide by 1 + N, not N: an unvisited child must get a finite bonus c * P * sqrt(N_parent)"),
        Mistake(lambda w, n, np_, p, c: mean_q(w, n) + c * math.sqrt(np_) / (1 + n),
                "the prior P is missing: the policy network's probability scales the exploration bonus"),
        Mistake(lambda w, n, np_, p, c: w + c * p * math.sqrt(np_) / (1 + n),
                "use the *mean* value W / N, not the total W"),
        Mistake(lambda w, n, np_, p, c: w / n + c * p * math.sqrt(np_) / (1 + n),
                "an unvisited child (N = 0) has no mean value yet: use Q = 0 for it instead of dividing by zero"),
        Mistake(lambda w, n, np_, p, c: mean_q(w, n) + c * p * math.sqrt(np_) / (1 + np_),
                "the denominator is 1 + N, the child's own visit count, not the parent's"),
    ]
    return compare_with_reference(student, _puct, _puct_cases(), mistakes, name="puct_score", rtol=1e-6, atol=1e-9)


# --- Exercise 4 ------------------------------------------------------------------------------

def _eps_probs(q, epsilon):
    q = np.asarray(q, dtype=float)
    p = np.full(q.shape, epsilon / q.size)
    p[np.argmax(q)] += 1.0 - epsilon
    return p


def _eps_cases() -> list[Case]:
    return [Case(args) for args in [
        (np.array([0.1, 0.5, 0.2, 0.0]), 0.1), (np.array([1.0, -1.0]), 0.5), (np.array([0.3, 0.2, 0.9]), 0.0),
        (np.array([0.3, 0.2, 0.9, 0.4, 0.1]), 1.0), (np.array([0.7, 0.2, 0.7, 0.1]), 0.2),
        (np.array([-3.0, -1.0, -2.0]), 0.3),
    ]]


def _tied(q, epsilon):
    q = np.asarray(q, dtype=float)
    best = q == q.max()
    return np.full(q.shape, epsilon / q.size) + (1.0 - epsilon) * best / best.sum()


def _every_tie(q, epsilon):
    q = np.asarray(q, dtype=float)
    return np.full(q.shape, epsilon / q.size) + (1.0 - epsilon) * (q == q.max())


def _others_only(q, epsilon):
    q = np.asarray(q, dtype=float)
    p = np.full(q.shape, epsilon / (q.size - 1))
    p[np.argmax(q)] = 1.0 - epsilon
    return p


@EXERCISES.exercise(4, "the probabilities of an ε-greedy policy")
def epsilon_greedy_probs(student: Any) -> str:
    """``epsilon_greedy_probs(q_values, epsilon)`` -> ε/n for every action, plus 1 − ε for argmax(q)."""
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    first = _eps_cases()[0]
    got = student(*_copied(first.args))
    if got is not None and np.ndim(got) == 0:
        raise Wrong(f"epsilon_greedy_probs{tuple(map(describe, first.args))}: returned one number; return the "
                    "probability of *every* action, an array as long as q_values")

    def greedy_only(q, e):
        p = np.full(np.shape(q), e / np.size(q))
        p[np.argmax(q)] = 1.0 - e
        return p

    mistakes = [
        Mistake(greedy_only, "the random action (probability ε) can also be the greedy one: the greedy action "
                "gets 1 - ε + ε/n, so the probabilities sum to 1"),
        Mistake(_others_only, "that spreads ε over the other actions only; here the random action is any of the "
                "n actions: ε/n each, plus 1 - ε for the greedy one"),
        Mistake(lambda q, e: _eps_probs(q, 1.0 - e), "you swapped ε and 1 - ε: ε is the probability of acting "
                "*randomly*"),
        Mistake(lambda q, e: _eps_probs(-np.asarray(q, dtype=float), e), "the greedy action has the *largest* "
                "Q value (np.argmax), not the smallest"),
        Mistake(_every_tie, "the probabilities must sum to 1: with tied maxima you added 1 - ε to every one of "
                "them; give it only to np.argmax(q_values), the first maximum"),
        Mistake(_tied, "with tied maxima, give the greedy share to np.argmax(q_values) — the first of them — "
                "as the exercise asks"),
        Mistake(lambda q, e: np.full(np.shape(q), 1.0 / np.size(q)), "that is the uniform random policy: add "
                "1 - ε to the greedy action"),
    ]
    return compare_with_reference(student, _eps_probs, _eps_cases(), mistakes, name="epsilon_greedy_probs",
                                  rtol=1e-6, atol=1e-9)


# --- Exercise 5 ------------------------------------------------------------------------------

def _ppo(log_new, log_old, adv, eps, *, ratio="exp", combine="min", reduce="mean", sign=1.0):
    log_new, log_old, adv = (np.asarray(v, dtype=float) for v in (log_new, log_old, adv))
    if ratio == "exp":
        rho = np.exp(log_new - log_old)
    elif ratio == "inverted":
        rho = np.exp(log_old - log_new)
    elif ratio == "divided":  # log-probabilities divided, as if they were probabilities
        rho = log_new / log_old
    else:  # the difference of log-probabilities, without exp
        rho = log_new - log_old
    unclipped, clipped = rho * adv, np.clip(rho, 1.0 - eps, 1.0 + eps) * adv
    per_step = {"min": np.minimum(unclipped, clipped), "max": np.maximum(unclipped, clipped),
                "unclipped": unclipped, "clipped": clipped}[combine]
    return sign * float(per_step.mean() if reduce == "mean" else per_step.sum())


def _ppo_objective(log_probs_new, log_probs_old, advantages, clip_epsilon):
    return _ppo(log_probs_new, log_probs_old, advantages, clip_epsilon)


def _ppo_cases() -> list[Case]:
    rng = np.random.default_rng(1105)
    cases = []
    for n, eps, spread in [(8, 0.2, 0.5), (12, 0.1, 0.3), (6, 0.3, 0.8), (10, 0.2, 0.05)]:
        log_old = np.log(rng.uniform(0.05, 0.9, size=n))
        log_new = log_old + rng.normal(0.0, spread, size=n)          # ratios inside and outside [1 - ε, 1 + ε]
        adv = rng.normal(size=n)
        adv[0], adv[1] = 1.5, -1.5                                   # one positive, one negative advantage ...
        log_new[0], log_new[1] = log_old[0] + 0.6, log_old[1] - 0.6  # ... each with a ratio far outside the clip
        cases.append(Case((log_new, log_old, adv, eps)))
    cases.append(Case((np.log([0.5, 0.2]), np.log([0.5, 0.2]), np.array([1.0, -2.0]), 0.2)))   # same policy: ρ = 1
    return cases


@EXERCISES.exercise(5, "PPO's clipped surrogate objective")
def ppo_clip_objective(student: Any) -> str:
    """``ppo_clip_objective(log_probs_new, log_probs_old, advantages, clip_epsilon)`` -> mean of min(ρA, clip(ρ)A)."""
    def v(**kw: Any) -> Any:
        return lambda ln, lo, a, e: _ppo(ln, lo, a, e, **kw)

    mistakes = [
        Mistake(v(combine="unclipped"), "no clipping: that is the plain importance-weighted surrogate mean(ρ·A); "
                "PPO takes min(ρ·A, clip(ρ, 1 - ε, 1 + ε)·A) so that one batch cannot push ρ far from 1"),
        Mistake(v(combine="clipped"), "the min is missing: with clip(ρ)·A alone, a step that made an action with "
                "A < 0 *more* likely (ρ > 1 + ε) would be clipped away instead of penalised; take "
                "min(ρ·A, clip(ρ, 1 - ε, 1 + ε)·A)"),
        Mistake(v(combine="max"), "max instead of min: PPO's objective is a pessimistic bound, "
                "min(ρ·A, clip(ρ, 1 - ε, 1 + ε)·A)"),
        Mistake(v(ratio="inverted"), "the ratio is upside down: ρ = π_new / π_old = exp(log π_new - log π_old)"),
        Mistake(v(ratio="divided"), "the inputs are log-probabilities: the probability ratio is "
                "exp(log_probs_new - log_probs_old), not log_probs_new / log_probs_old"),
        Mistake(v(ratio="difference"), "exp is missing: ρ = exp(log_probs_new - log_probs_old) is a ratio of "
                "probabilities, 1 when the policies agree"),
        Mistake(v(sign=-1.0), "you returned the loss, -objective: this exercise asks for the objective PPO "
                "maximises (an optimiser then minimises its negative)"),
        Mistake(v(reduce="sum"), "average over the batch (mean), not the sum"),
        Mistake(v(combine="clipped", sign=-1.0), "you returned minus the clipped term only: the objective is "
                "+mean(min(ρ·A, clip(ρ, 1 - ε, 1 + ε)·A))"),
    ]
    return compare_with_reference(student, _ppo_objective, _ppo_cases(), mistakes, name="ppo_clip_objective",
                                  rtol=1e-6, atol=1e-9)
