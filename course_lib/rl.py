"""Reinforcement learning (chapter 11): tabular MDPs, vectorised rollouts, tic-tac-toe, plots.

Chapter 11 writes the algorithms it teaches — returns, Bellman backups, value iteration,
Q-learning, REINFORCE, MCTS, the Bradley–Terry reward model — in its notebook. This module holds
the plumbing around them, so the notebook's cells stay short:

- :func:`tabular_mdp` -- a gymnasium toy-text environment's transition table ``env.unwrapped.P`` as
  arrays ``T[s, a, s']``, ``R[s, a]`` and a terminal mask (:class:`TabularMDP`);
- :func:`rollout` -- episodes of a batched (vector) environment, with a mask of the steps that
  belong to an episode, for any function mapping a batch of observations to actions;
- :func:`distribute_batch` -- split arrays along their first axis among the replicas of a
  ``tf.distribute`` strategy (a distributed value ready for ``strategy.run``);
- tic-tac-toe: :func:`winner`, :func:`legal_moves`, :func:`play`, :func:`play_game`,
  :func:`random_agent`, :func:`minimax_values` (the exact game values, a reference for MCTS) and
  :func:`board_text`;
- plots: :func:`plot_value_maps` (values and greedy actions on a grid world),
  :func:`plot_curves` (learning curves with a moving average and reference lines) and
  :func:`moving_average`.

Boards are tuples of 9 ints read row by row: ``1`` is X, ``-1`` is O, ``0`` an empty square; X
moves first. Each plotting helper draws one figure and shows it (``show=True`` returns None), or
returns the ``matplotlib.figure.Figure`` with ``show=False``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from course_lib._validate import check_arguments
from course_lib.plots import finish_figure

__all__ = [
    "TabularMDP", "tabular_mdp", "Rollout", "rollout", "distribute_batch", "winner", "legal_moves",
    "to_move", "play", "random_agent", "play_game", "minimax_values", "board_text",
    "plot_value_maps", "moving_average", "plot_curves",
]

# --- tabular MDPs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TabularMDP:
    """A finite MDP as arrays.

    Attributes:
        T: ``(S, A, S)`` transition probabilities ``T[s, a, s'] = p(s' | s, a)``; rows sum to 1.
        R: ``(S, A)`` expected immediate reward ``R[s, a] = sum_s' p(s' | s, a) r(s, a, s')``.
        terminal: ``(S,)`` booleans: the states where an episode ends (no reward after them).
    """

    T: np.ndarray
    R: np.ndarray
    terminal: np.ndarray

    @property
    def n_states(self) -> int:
        return self.T.shape[0]

    @property
    def n_actions(self) -> int:
        return self.T.shape[1]


def tabular_mdp(env: Any) -> TabularMDP:
    """Arrays ``T``, ``R`` and ``terminal`` from a gymnasium toy-text environment's table ``P``.

    ``env.unwrapped.P[s][a]`` is a list of ``(probability, next_state, reward, done)`` tuples. A
    next state reached with ``done=True`` is terminal; the table must say so consistently.

    Args:
        env: a gymnasium environment with discrete observation and action spaces and a table
            ``P`` (FrozenLake, Taxi, CliffWalking ...), or that table itself (a dict).

    Raises:
        ValueError: if there is no table, a state or action is missing, a probability is outside
            [0, 1] or they do not sum to 1, a reward is not finite (NaN, inf), a next state is not a
            state of the table, or a next state is terminal in one entry and not in another.
    """
    check_arguments(tabular_mdp, locals(), env="own")
    table = env if isinstance(env, dict) else getattr(getattr(env, "unwrapped", env), "P", None)
    if not isinstance(table, dict) or not table:
        raise ValueError(f"expected an environment with a transition table env.unwrapped.P, got {type(env).__name__}")
    n_states = len(table)
    if sorted(table) != list(range(n_states)):
        raise ValueError(f"expected the table's states to be 0 … {n_states - 1}, got {sorted(table)[:8]} …")
    n_actions = len(table[0])
    T = np.zeros((n_states, n_actions, n_states))
    R = np.zeros((n_states, n_actions))
    done_flag: dict[int, bool] = {}
    for s in range(n_states):
        if sorted(table[s]) != list(range(n_actions)):
            raise ValueError(f"expected actions 0 … {n_actions - 1} in state {s}, got {sorted(table[s])}")
        for a in range(n_actions):
            for entry in table[s][a]:
                if not isinstance(entry, (tuple, list)) or len(entry) != 4:
                    raise ValueError(f"P[{s}][{a}]: expected (probability, next_state, reward, done) tuples, "
                                     f"got {entry!r:.60}")
                p, s2, r, done = entry
                if isinstance(p, bool) or not isinstance(p, (int, float, np.number)) or not 0 <= p <= 1:
                    raise ValueError(f"P[{s}][{a}]: expected a probability in [0, 1], got {p!r}")
                if isinstance(s2, bool) or not isinstance(s2, (int, np.integer)) or not 0 <= s2 < n_states:
                    raise ValueError(f"P[{s}][{a}]: expected a next state in 0 … {n_states - 1}, got {s2!r}")
                if isinstance(r, bool) or not isinstance(r, (int, float, np.number)) or not np.isfinite(r):
                    raise ValueError(f"P[{s}][{a}]: expected a finite reward, got {r!r}")
                T[s, a, s2] += p
                R[s, a] += p * r
                if done_flag.setdefault(int(s2), bool(done)) != bool(done):
                    raise ValueError(f"state {s2} is reached with done=True and with done=False: "
                                     "termination must depend on the next state only")
            if not np.isclose(T[s, a].sum(), 1.0):
                raise ValueError(f"p(. | s={s}, a={a}) sums to {T[s, a].sum():.6g}, expected 1")
    terminal = np.array([done_flag.get(s, False) for s in range(n_states)])
    return TabularMDP(T, R, terminal)


# --- vectorised rollouts ----------------------------------------------------------------------


@dataclass(frozen=True)
class Rollout:
    """Steps of ``N`` parallel episodes, time-major.

    Attributes:
        obs: ``(T, N, ...)`` observations the actions were chosen from.
        actions: ``(T, N)`` the actions taken.
        rewards: ``(T, N)`` the rewards received (0 after an episode ended).
        mask: ``(T, N)`` True where the step belongs to the episode (before it ended).
    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    mask: np.ndarray

    @property
    def episode_returns(self) -> np.ndarray:
        """The undiscounted return of each of the ``N`` episodes."""
        return self.rewards.sum(axis=0)


def rollout(envs: Any, act: Callable[[np.ndarray], Any], seed: int, max_steps: int = 500) -> Rollout:
    """Run one episode in each of the ``envs.num_envs`` environments of a vector environment.

    All environments are reset together with ``seed``; ``act(obs)`` receives the ``(N, ...)`` batch
    of observations and returns ``N`` actions. The environments step together until every episode
    has terminated or was truncated (or ``max_steps``); steps after an episode's end (gymnasium
    vector environments reset it automatically) are masked out and carry no reward.

    Raises:
        ValueError: if ``envs`` is not a vector environment, ``max_steps`` is not an int >= 1, or
            ``act`` does not return one action per environment.
    """
    check_arguments(rollout, locals(), envs="own", act="own", max_steps="own")
    n = getattr(envs, "num_envs", None)
    if not isinstance(n, int):
        raise ValueError(f"expected a gymnasium vector environment (with num_envs), got {type(envs).__name__}")
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"expected max_steps to be an int >= 1, got {max_steps!r}")
    obs, _ = envs.reset(seed=int(seed))
    alive = np.ones(n, dtype=bool)
    steps: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for _ in range(max_steps):
        actions = np.asarray(act(obs))
        if actions.shape[:1] != (n,):
            raise ValueError(f"expected act to return {n} actions (one per environment), got shape {actions.shape}")
        next_obs, reward, terminated, truncated, _ = envs.step(actions)
        steps.append((obs, actions, np.where(alive, reward, 0.0).astype(np.float32), alive.copy()))
        alive &= ~(np.asarray(terminated) | np.asarray(truncated))
        obs = next_obs
        if not alive.any():
            break
    o, a, r, m = (np.stack(x) for x in zip(*steps))
    return Rollout(o, a, r, m)


def distribute_batch(strategy: Any, *arrays: Any) -> Any:
    """Split ``arrays`` along their first axis into one contiguous slice per replica.

    Returns a distributed value (a tuple of tensors on each replica) to pass to ``strategy.run``.
    With one replica it is the whole batch; with ``k`` replicas, replica ``i`` gets the ``i``-th of
    ``k`` equal parts.

    Raises:
        ValueError: if no arrays are given, their lengths differ, or the length does not divide
            evenly across the replicas.
    """
    check_arguments(distribute_batch, locals())
    import tensorflow as tf

    if not arrays:
        raise ValueError("expected at least one array to distribute")
    arrays = tuple(np.asarray(a) for a in arrays)
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"expected arrays of the same length, got lengths {[len(a) for a in arrays]}")
    replicas = strategy.num_replicas_in_sync
    length = lengths.pop()
    if length % replicas:
        raise ValueError(f"a batch of {length} does not divide evenly across {replicas} replicas: "
                         f"pad it to a multiple of {replicas}")

    def part(ctx: Any) -> tuple:
        i, k = ctx.replica_id_in_sync_group, ctx.num_replicas_in_sync
        size = length // k
        return tuple(tf.constant(a[i * size:(i + 1) * size]) for a in arrays)

    return strategy.experimental_distribute_values_from_function(part)


# --- tic-tac-toe ------------------------------------------------------------------------------

LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))
X, O = 1, -1


_MARKS = frozenset((-1, 0, 1))


def _check_board(board: Any) -> tuple[int, ...]:
    if type(board) is tuple and len(board) == 9 and _MARKS.issuperset(board):  # fast path (MCTS calls often)
        return board
    if not isinstance(board, (tuple, list)) or len(board) != 9 or any(v not in (-1, 0, 1) for v in board):
        raise ValueError(f"expected a board: 9 squares, each 1 (X), -1 (O) or 0 (empty), got {board!r}")
    return tuple(int(v) for v in board)


def _winner(b: tuple[int, ...]) -> int | None:
    for i, j, k in LINES:
        if b[i] != 0 and b[i] == b[j] == b[k]:
            return b[i]
    return None if 0 in b else 0


def winner(board: Sequence[int]) -> int | None:
    """``1`` if X has three in a row, ``-1`` if O has, ``0`` for a draw (full board), else None."""
    return _winner(_check_board(board))


def legal_moves(board: Sequence[int]) -> list[int]:
    """The empty squares (0 … 8) of a game that is not over; [] when it is over."""
    b = _check_board(board)
    return [] if _winner(b) is not None else [i for i in range(9) if b[i] == 0]


def to_move(board: Sequence[int]) -> int:
    """Whose turn it is: X (1) when both have played as often, else O (-1)."""
    b = _check_board(board)
    x, o = b.count(X), b.count(O)
    if x - o not in (0, 1):
        raise ValueError(f"not a reachable position: {x} X and {o} O (X moves first, then they alternate)")
    return X if x == o else O


def play(board: Sequence[int], move: int, player: int) -> tuple[int, ...]:
    """The board after ``player`` (1 or -1) puts a mark on the empty square ``move``."""
    b = _check_board(board)
    if player not in (X, O):
        raise ValueError(f"expected player 1 (X) or -1 (O), got {player!r}")
    if isinstance(move, bool) or not isinstance(move, (int, np.integer)) or not 0 <= move < 9 or b[move] != 0:
        raise ValueError(f"expected move to be an empty square 0 … 8, got {move!r} on {b}")
    out = list(b)
    out[move] = player
    return tuple(out)


def random_agent(board: Sequence[int], player: int, rng: np.random.Generator) -> int:
    """A uniformly random legal move."""
    check_arguments(random_agent, locals(), player=(-1, 1))
    moves = legal_moves(board)
    return moves[rng.integers(len(moves))]


def play_game(agent_x: Callable, agent_o: Callable, rng: np.random.Generator) -> int:
    """Play one game from the empty board; return the result: 1 X won, -1 O won, 0 draw.

    An agent is called as ``agent(board, player, rng)`` and returns a legal move.

    Raises:
        ValueError: if an agent plays an illegal move.
    """
    check_arguments(play_game, locals())
    board: tuple[int, ...] = (0,) * 9
    player = X
    while winner(board) is None:
        move = (agent_x if player == X else agent_o)(board, player, rng)
        if move not in legal_moves(board):
            raise ValueError(f"{'X' if player == X else 'O'} played the illegal move {move!r} on {board}")
        board = play(board, move, player)
        player = -player
    return int(winner(board))


@functools.lru_cache(maxsize=None)
def _negamax(board: tuple[int, ...], player: int) -> int:
    w = _winner(board)
    if w is not None:
        return w * player
    return max(-_negamax(play(board, m, player), -player) for m in legal_moves(board))


def minimax_values(board: Sequence[int]) -> dict[int, int]:
    """The exact value of every legal move for the player to move: 1 win, 0 draw, -1 loss (perfect play).

    Raises:
        ValueError: for an invalid or finished position.
    """
    b = _check_board(board)
    player = to_move(b)
    moves = legal_moves(b)
    if not moves:
        raise ValueError(f"the game is over on {b}: there is no move to value")
    return {m: -_negamax(play(b, m, player), -player) for m in moves}


def board_text(board: Sequence[int]) -> str:
    """The board as three lines of ``X``, ``O`` and ``.`` (square numbers 0 … 8 row by row)."""
    b = _check_board(board)
    sym = {X: "X", O: "O", 0: "."}
    return "\n".join(" ".join(sym[b[3 * r + c]] for c in range(3)) for r in range(3))


# --- plots ------------------------------------------------------------------------------------

_ARROWS = {0: "←", 1: "↓", 2: "→", 3: "↑"}  # FrozenLake's actions: left, down, right, up


def plot_value_maps(
    desc: Any,
    panels: Mapping[str, tuple[Any, Any]],
    title: str | None = None,
    show: bool = True,
) -> Any:
    """Grid-world maps side by side: state values as colours, greedy actions as arrows.

    Args:
        desc: the map, e.g. FrozenLake's ``env.unwrapped.desc`` (rows of ``S``, ``F``, ``H``, ``G``).
        panels: ``{panel title: (values, policy)}``; ``values`` has one number per state (row by
            row), ``policy`` one action per state (FrozenLake's 0 ← 1 ↓ 2 → 3 ↑) or None.
        title: the figure's title.

    Raises:
        ValueError: if there are no panels or a panel's sizes do not match the map.
    """
    check_arguments(plot_value_maps, locals(), title="own")
    import matplotlib.pyplot as plt

    grid = np.asarray(desc)
    grid = np.vectorize(lambda c: c.decode() if isinstance(c, bytes) else str(c))(grid)
    if grid.ndim != 2:
        raise ValueError(f"expected desc to be a 2-D map of letters, got shape {grid.shape}")
    if not panels:
        raise ValueError("expected at least one panel {title: (values, policy)}")
    rows, cols = grid.shape
    fig, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels) + 0.6, 3.4), squeeze=False)
    for ax, (name, (values, policy)) in zip(axes[0], panels.items()):
        v = np.asarray(values, dtype=float)
        if v.size != rows * cols:
            raise ValueError(f"panel {name!r}: expected {rows * cols} values, one per state, got {v.size}")
        im = ax.imshow(v.reshape(rows, cols), cmap="viridis", vmin=0.0, vmax=max(1e-9, float(np.max(v))))
        for r in range(rows):
            for c in range(cols):
                letter = grid[r, c]
                s = r * cols + c
                if letter in "HG":
                    text = "hole" if letter == "H" else "goal"
                elif policy is not None:
                    p = np.asarray(policy).ravel()
                    if p.size != rows * cols:
                        raise ValueError(f"panel {name!r}: expected {rows * cols} actions, got {p.size}")
                    text = f"{_ARROWS.get(int(p[s]), '?')}\n{v.ravel()[s]:.2f}"
                else:
                    text = f"{v.ravel()[s]:.2f}"
                ax.text(c, r, text, ha="center", va="center", fontsize=9,
                        color="white" if v.ravel()[s] < 0.6 * np.max(v) else "black")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        ax.set_title(name, fontsize=10)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if title:
        fig.suptitle(title)
    return finish_figure(fig, show)


def moving_average(x: Any, window: int) -> np.ndarray:
    """The mean of each run of ``window`` consecutive values (``len(x) - window + 1`` values).

    Raises:
        ValueError: if ``x`` is not 1-D or ``window`` is not an int in 1 … len(x).
    """
    check_arguments(moving_average, locals(), x="array", window="own")
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"expected a 1-D sequence, got shape {arr.shape}")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or not 1 <= window <= len(arr):
        raise ValueError(f"expected window to be an int in 1 … {len(arr)}, got {window!r}")
    c = np.cumsum(np.concatenate([[0.0], arr]))
    return (c[window:] - c[:-window]) / window


def plot_curves(
    curves: Mapping[str, Any],
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    references: Mapping[str, float] | None = None,
    window: int = 1,
    x: Mapping[str, Any] | None = None,
    logx: bool = False,
    logy: bool = False,
    raw: bool = True,
    show: bool = True,
) -> Any:
    """Learning curves on one axes, smoothed by a moving average, with horizontal reference lines.

    Args:
        curves: ``{label: values}``; with ``window > 1`` each curve is drawn as its moving average
            (plotted at the end of each window) over the faint raw values.
        xlabel, ylabel, title: the axes' texts.
        references: ``{label: y}`` drawn as dashed horizontal lines (e.g. the optimum, a random policy).
        window: the moving-average window (1: no smoothing).
        x: optional ``{label: x values}`` for curves not indexed 1, 2, 3 …
        logx, logy: logarithmic x or y axis.
        raw: with ``window > 1``, also draw the raw values, faintly (False for 0/1 outcomes).

    Raises:
        ValueError: if there are no curves, a curve is empty or not 1-D, or ``x`` does not match it.
    """
    check_arguments(plot_curves, locals(), x="own")
    import matplotlib.pyplot as plt

    if not curves:
        raise ValueError("expected at least one curve {label: values}")
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for label, values in curves.items():
        y = np.asarray(values, dtype=float)
        if y.ndim != 1 or y.size == 0:
            raise ValueError(f"curve {label!r}: expected a non-empty 1-D sequence, got shape {y.shape}")
        xs = np.asarray(x[label], dtype=float) if x is not None and label in x else np.arange(1, y.size + 1)
        if xs.shape != y.shape:
            raise ValueError(f"curve {label!r}: {y.size} values but {xs.size} x values")
        if window > 1 and y.size >= window:
            line, = ax.plot(xs[window - 1:], moving_average(y, window), label=f"{label} (mean of {window})")
            if raw:
                ax.plot(xs, y, alpha=0.2, color=line.get_color())
        else:
            ax.plot(xs, y, marker="." if y.size <= 60 else None, label=label)
    for i, (label, level) in enumerate((references or {}).items()):
        ax.axhline(float(level), linestyle="--", color=f"C{i + 3}", label=label)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return finish_figure(fig, show)
