"""course_lib.rl: tabular MDPs, rollouts, batch distribution, tic-tac-toe and plots."""

import matplotlib

matplotlib.use("Agg")
import gymnasium as gym  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib import rl  # noqa: E402


def teardown_function():
    plt.close("all")


# --- tabular MDPs -----------------------------------------------------------------------------

def test_tabular_mdp_of_frozenlake():
    env = gym.make("FrozenLake-v1", is_slippery=True)
    mdp = rl.tabular_mdp(env)
    assert mdp.T.shape == (16, 4, 16) and mdp.R.shape == (16, 4)
    assert (mdp.n_states, mdp.n_actions) == (16, 4)
    np.testing.assert_allclose(mdp.T.sum(axis=2), 1.0)
    assert np.flatnonzero(mdp.terminal).tolist() == [5, 7, 11, 12, 15]
    # from state 14, "right" reaches the goal with probability 1/3 (slippery ice)
    assert mdp.T[14, 2, 15] == pytest.approx(1 / 3) and mdp.R[14, 2] == pytest.approx(1 / 3)


def test_tabular_mdp_deterministic_lake_and_raw_table():
    env = gym.make("FrozenLake-v1", is_slippery=False)
    mdp = rl.tabular_mdp(env.unwrapped.P)
    assert set(np.unique(mdp.T)) == {0.0, 1.0}
    assert mdp.T[0, 2, 1] == 1.0  # right from the start


def test_tabular_mdp_rejects_bad_tables():
    with pytest.raises(ValueError, match="expected an environment with a transition table"):
        rl.tabular_mdp(gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="sums to 0.5, expected 1"):
        rl.tabular_mdp({0: {0: [(0.5, 0, 0.0, False)]}})
    with pytest.raises(ValueError, match="reached with done=True and with done=False"):
        rl.tabular_mdp({0: {0: [(0.5, 1, 0.0, False), (0.5, 1, 0.0, True)]}, 1: {0: [(1.0, 1, 0.0, True)]}})
    with pytest.raises(ValueError, match="expected the table's states to be 0"):
        rl.tabular_mdp({1: {0: [(1.0, 1, 0.0, False)]}})
    with pytest.raises(ValueError, match="expected actions 0 … 1 in state 1"):
        rl.tabular_mdp({0: {0: [(1.0, 0, 0, False)], 1: [(1.0, 0, 0, False)]}, 1: {0: [(1.0, 0, 0, False)]}})


# --- rollouts and distribution ----------------------------------------------------------------

def test_rollout_masks_steps_after_the_end():
    envs = gym.make_vec("CartPole-v1", num_envs=4, vectorization_mode="vector_entry_point")
    rng = np.random.default_rng(0)
    run = rl.rollout(envs, lambda obs: rng.integers(2, size=len(obs)), seed=3)
    steps, n = run.mask.shape
    assert run.obs.shape == (steps, n, 4) and run.actions.shape == run.rewards.shape == (steps, n)
    lengths = run.mask.sum(axis=0)
    assert lengths.max() == steps  # the longest episode sets the length
    for i, length in enumerate(lengths):  # each episode is a prefix of steps, with reward 1 per step
        assert run.mask[:length, i].all() and not run.mask[length:, i].any()
        assert run.rewards[:, i].sum() == length
    np.testing.assert_array_equal(run.episode_returns, lengths)


def test_rollout_is_reproducible_and_respects_max_steps():
    envs = gym.make_vec("CartPole-v1", num_envs=3, vectorization_mode="vector_entry_point")
    always_left = lambda obs: np.zeros(len(obs), dtype=int)  # noqa: E731
    a, b = rl.rollout(envs, always_left, seed=1), rl.rollout(envs, always_left, seed=1)
    np.testing.assert_array_equal(a.obs, b.obs)
    short = rl.rollout(envs, always_left, seed=1, max_steps=2)
    assert short.mask.shape == (2, 3)


def test_rollout_rejects_bad_input():
    envs = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="vector_entry_point")
    with pytest.raises(ValueError, match="expected a gymnasium vector environment"):
        rl.rollout(gym.make("CartPole-v1"), lambda obs: 0, seed=0)
    with pytest.raises(ValueError, match="max_steps to be an int >= 1, got 0"):
        rl.rollout(envs, lambda obs: [0, 0], seed=0, max_steps=0)
    with pytest.raises(ValueError, match="expected act to return 2 actions"):
        rl.rollout(envs, lambda obs: [0, 0, 1], seed=0)


def test_distribute_batch_one_replica():
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    x, y = np.arange(8.0).reshape(4, 2), np.arange(4)
    parts = rl.distribute_batch(strategy, x, y)
    np.testing.assert_array_equal(parts[0], x)
    np.testing.assert_array_equal(parts[1], y)


def test_distribute_batch_two_replicas_get_their_own_slices():
    import tensorflow as tf

    from course_lib.distribute import get_strategy

    strategy = get_strategy(cpu_only=True)  # the two simulated CPU replicas of conftest
    assert strategy.num_replicas_in_sync == 2
    x, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    parts = strategy.experimental_local_results(rl.distribute_batch(strategy, x, y))
    assert len(parts) == 2
    for i, (x_i, y_i) in enumerate(parts):  # replica i holds the i-th contiguous half
        np.testing.assert_array_equal(x_i, x[3 * i:3 * i + 3])
        np.testing.assert_array_equal(y_i, y[3 * i:3 * i + 3])

    @tf.function
    def step(x_part, y_part):  # what a replica computes from its slice, as in chapter 11's train step
        ctx = tf.distribute.get_replica_context()
        return tf.cast(ctx.replica_id_in_sync_group, tf.float64) * 1000 + tf.reduce_sum(x_part) + tf.cast(
            tf.reduce_sum(y_part), tf.float64)

    results = strategy.experimental_local_results(
        strategy.run(step, args=rl.distribute_batch(strategy, x, y)))
    assert [float(r) for r in results] == [x[:3].sum() + y[:3].sum(), 1000 + x[3:].sum() + y[3:].sum()]


def test_distribute_batch_rejects_bad_input():
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    with pytest.raises(ValueError, match="at least one array"):
        rl.distribute_batch(strategy)
    with pytest.raises(ValueError, match="same length, got lengths \\[4, 3\\]"):
        rl.distribute_batch(strategy, np.zeros(4), np.zeros(3))

    class TwoReplicas:
        num_replicas_in_sync = 2

    with pytest.raises(ValueError, match="a batch of 5 does not divide evenly across 2 replicas"):
        rl.distribute_batch(TwoReplicas(), np.zeros(5))


# --- tic-tac-toe ------------------------------------------------------------------------------

X, O, E = 1, -1, 0


def test_rules():
    assert rl.winner((X, X, X, O, O, E, E, E, E)) == X
    assert rl.winner((O, X, X, E, O, X, E, E, O)) == O
    assert rl.winner((X, O, X, X, O, O, O, X, X)) == 0
    assert rl.winner((0,) * 9) is None
    assert rl.legal_moves((X, X, X, O, O, E, E, E, E)) == []
    assert rl.legal_moves((X, O, E, E, E, E, E, E, E)) == [2, 3, 4, 5, 6, 7, 8]
    assert rl.play((0,) * 9, 4, X) == (E, E, E, E, X, E, E, E, E)
    assert rl.to_move((X, O, X, E, E, E, E, E, E)) == O
    assert rl.board_text((X, O, E, E, X, E, E, E, O)) == "X O .\n. X .\n. . O"


def test_minimax_values():
    win = rl.minimax_values((X, X, E, O, O, E, E, E, E))
    assert win[2] == 1 and all(v < 1 for m, v in win.items() if m != 2)
    values = rl.minimax_values((X, E, E, E, O, E, E, E, X))  # O must take an edge
    assert {m for m, v in values.items() if v == 0} == {1, 3, 5, 7}
    assert all(values[m] == -1 for m in (2, 6))
    assert set(rl.minimax_values((0,) * 9).values()) == {0}  # perfect play draws


def test_play_game_random_agents():
    rng = np.random.default_rng(0)
    results = [rl.play_game(rl.random_agent, rl.random_agent, rng) for _ in range(50)]
    assert set(results) <= {-1, 0, 1} and results.count(1) > results.count(-1)  # X moves first


def test_tictactoe_rejects_bad_input():
    with pytest.raises(ValueError, match="expected a board: 9 squares"):
        rl.winner((1, 2, 0))
    with pytest.raises(ValueError, match="expected move to be an empty square 0 … 8, got 0"):
        rl.play((X, E, E, E, E, E, E, E, E), 0, O)
    with pytest.raises(ValueError, match="expected player 1 \\(X\\) or -1 \\(O\\)"):
        rl.play((0,) * 9, 0, 2)
    with pytest.raises(ValueError, match="not a reachable position"):
        rl.to_move((O, E, E, E, E, E, E, E, E))
    with pytest.raises(ValueError, match="the game is over"):
        rl.minimax_values((X, X, X, O, O, E, E, E, E))
    with pytest.raises(ValueError, match="O played the illegal move 0"):
        rl.play_game(lambda b, p, r: 0, lambda b, p, r: 0, np.random.default_rng(0))


# --- plots ------------------------------------------------------------------------------------

def test_moving_average():
    np.testing.assert_allclose(rl.moving_average([1, 2, 3, 4], 2), [1.5, 2.5, 3.5])
    np.testing.assert_allclose(rl.moving_average([1, 2, 3], 1), [1, 2, 3])
    with pytest.raises(ValueError, match="window to be an int in 1 … 3, got 4"):
        rl.moving_average([1, 2, 3], 4)
    with pytest.raises(ValueError, match="expected a 1-D sequence"):
        rl.moving_average(np.zeros((2, 2)), 1)


def test_plot_curves():
    fig = rl.plot_curves({"a": np.arange(50.0), "b": np.ones(50)}, "step", "value", title="t",
                         references={"ref": 3.0}, window=5, logy=False, show=False)
    assert fig.axes[0].get_xlabel() == "step" and len(fig.axes[0].get_lines()) == 5  # 2 raw + 2 smooth + ref
    fig = rl.plot_curves({"c": [1.0, 0.1, 0.01]}, "sweep", "residual", x={"c": [1, 2, 3]}, logy=True, show=False)
    assert fig.axes[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="at least one curve"):
        rl.plot_curves({}, "x", "y")
    with pytest.raises(ValueError, match="curve 'a': 3 values but 2 x values"):
        rl.plot_curves({"a": [1, 2, 3]}, "x", "y", x={"a": [1, 2]})
    with pytest.raises(ValueError, match="non-empty 1-D sequence"):
        rl.plot_curves({"a": []}, "x", "y")


def test_plot_value_maps():
    desc = gym.make("FrozenLake-v1").unwrapped.desc
    values, policy = np.linspace(0, 1, 16), np.zeros(16, dtype=int)
    fig = rl.plot_value_maps(desc, {"one": (values, policy), "two": (values, None)}, title="maps", show=False)
    assert len(fig.axes) == 4  # two maps, two colour bars
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "hole" in texts and "goal" in texts and any(t.startswith("←") for t in texts)
    with pytest.raises(ValueError, match="expected 16 values, one per state, got 15"):
        rl.plot_value_maps(desc, {"bad": (np.zeros(15), None)})
    with pytest.raises(ValueError, match="expected 16 actions, got 3"):
        rl.plot_value_maps(desc, {"bad": (values, [0, 1, 2])})
    with pytest.raises(ValueError, match="at least one panel"):
        rl.plot_value_maps(desc, {})
