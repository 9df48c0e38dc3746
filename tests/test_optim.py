"""The optimization plots draw what they are given and refuse what they cannot draw."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib import optim  # noqa: E402


def teardown_function():
    plt.close("all")


def bowl(theta):
    return (theta[0] - 1.0) ** 2 + 4.0 * (theta[1] + 0.5) ** 2


def test_loss_grid_evaluates_every_point():
    p0, p1, z = optim.loss_grid(bowl, (-1, 3), (-2, 1), num=5)
    assert p0.shape == p1.shape == z.shape == (5, 5)
    assert p0[0, 0] == -1 and p0[0, -1] == 3 and p1[0, 0] == -2 and p1[-1, 0] == 1
    np.testing.assert_allclose(z, (p0 - 1.0) ** 2 + 4.0 * (p1 + 0.5) ** 2)
    assert z.min() == pytest.approx(0.0)  # the grid contains the minimum (1, -0.5)


def test_loss_grid_rejects_bad_input():
    with pytest.raises(ValueError, match="expected xlim = \\(low, high\\) with finite low < high"):
        optim.loss_grid(bowl, (3, 1), (0, 1))
    with pytest.raises(ValueError, match="expected ylim to be a pair"):
        optim.loss_grid(bowl, (0, 1), 5)
    with pytest.raises(ValueError, match="num to be an int >= 2, got 1"):
        optim.loss_grid(bowl, (0, 1), (0, 1), num=1)
    with pytest.raises(ValueError, match="loss_fn to be a function"):
        optim.loss_grid("bowl", (0, 1), (0, 1))
    with pytest.raises(ValueError, match="return one number, got an array of shape \\(2,\\)"):
        optim.loss_grid(lambda t: t, (0, 1), (0, 1), num=2)


def test_plot_loss_surface_draws_trajectories_and_optimum():
    path = np.array([[-1.0, 1.0], [0.0, 0.0], [1.0, -0.5]])
    diverging = np.array([[0.0, 0.0], [1e6, -1e6], [np.inf, np.nan]])
    fig = optim.plot_loss_surface(bowl, {"GD": path, "too large": diverging}, optimum=(1.0, -0.5),
                                  xlim=(-2, 3), ylim=(-2, 2), labels=("w", "b"), title="bowl", show=False)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["GD", "too large", "minimum"]
    assert ax.get_xlabel() == "w" and ax.get_title() == "bowl"
    assert ax.get_xlim() == (-2.0, 3.0)  # a diverging path does not stretch the axes
    assert len(fig.axes) == 2  # the plot and its colour bar


def test_plot_loss_surface_without_trajectories():
    fig = optim.plot_loss_surface(bowl, None, xlim=(0, 2), ylim=(-1, 0), num=11, show=False)
    assert fig.axes[0].get_legend() is None


def test_plot_loss_surface_rejects_bad_input():
    with pytest.raises(ValueError, match=r"trajectory 'GD' of shape \(steps \+ 1, 2\).*got \(3,\)"):
        optim.plot_loss_surface(bowl, {"GD": [1.0, 2.0, 3.0]}, show=False)
    with pytest.raises(ValueError, match=r"trajectory 'GD'.*got \(2, 3\)"):
        optim.plot_loss_surface(bowl, {"GD": np.zeros((2, 3))}, show=False)
    with pytest.raises(ValueError, match="optimum to be a pair"):
        optim.plot_loss_surface(bowl, {}, optimum=(1.0, 2.0, 3.0), show=False)
    with pytest.raises(ValueError, match="levels to be an int >= 2"):
        optim.plot_loss_surface(bowl, {}, levels=1, show=False)


def test_plot_curves_lines_and_matching_reference_markers():
    steps = np.arange(10)
    fig = optim.plot_curves({"ours": steps * 0.1, "other": steps * 0.2}, x=steps,
                            reference={"keras": steps * 0.1}, reference_every=3, xlabel="step",
                            ylabel="η", title="t", show=False)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["ours", "other", "keras"]
    assert len(ax.lines[2].get_xdata()) == 4  # steps 0, 3, 6, 9
    assert ax.lines[2].get_color() == ax.lines[0].get_color()
    assert ax.get_ylabel() == "η"


def test_plot_curves_log_scale_leaves_out_non_positive_and_non_finite():
    fig = optim.plot_curves({"gap": [1.0, 0.1, 0.0, np.inf, 1e-3]}, logy=True, show=False)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [0, 1, 4])


def test_plot_curves_rejects_bad_input():
    with pytest.raises(ValueError, match="non-empty dict"):
        optim.plot_curves({}, show=False)
    with pytest.raises(ValueError, match=r"curve 'a' to be a non-empty 1-D sequence, got shape \(2, 2\)"):
        optim.plot_curves({"a": np.zeros((2, 2))}, show=False)
    with pytest.raises(ValueError, match="curve 'a' has 3 values but x has 4"):
        optim.plot_curves({"a": [1, 2, 3]}, x=[0, 1, 2, 3], show=False)
    with pytest.raises(ValueError, match="curve 'k' has 2 values but x has 3"):
        optim.plot_curves({"a": [1, 2, 3]}, x=[0, 1, 2], reference={"k": [1, 2]}, show=False)
    with pytest.raises(ValueError, match="reference_every to be an int >= 1"):
        optim.plot_curves({"a": [1.0]}, reference_every=0, show=False)
