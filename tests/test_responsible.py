"""Unit tests of course_lib.responsible: the generated lending data and the plotting helpers."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib import responsible  # noqa: E402


def test_lending_data_is_reproducible_and_shaped():
    a, b = responsible.make_lending_data(600, seed=3), responsible.make_lending_data(600, seed=3)
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    assert a["x"].shape == (600, 3) and a["x"].dtype == np.float32
    assert set(np.unique(a["group"])) == {0, 1}
    assert (a["split"] == "train").sum() == 400 and (a["split"] == "test").sum() == 200
    other = responsible.make_lending_data(600, seed=4)
    assert not np.array_equal(a["x"], other["x"])


def test_lending_data_injects_exactly_the_documented_bias():
    d = responsible.make_lending_data(20000, minority_share=0.3, flip_rate=0.4, seed=0)
    g, q, y = d["group"], d["qualified"], d["label"]
    assert abs(g.mean() - 0.3) < 0.02
    # the groups are equally qualified ...
    assert abs(q[g == 1].mean() - q[g == 0].mean()) < 0.03
    # ... group 0's labels are the truth, group 1's qualified applicants were turned down 40 % of the time
    assert np.array_equal(y[g == 0], q[g == 0])
    assert np.all(y <= q)
    assert abs(1 - y[(g == 1) & (q == 1)].mean() - 0.4) < 0.03
    # the proxy reveals the group; the scores reveal merit
    assert np.corrcoef(d["x"][:, 2], g)[0, 1] > 0.6
    assert np.corrcoef(d["x"][:, 0], d["merit"])[0, 1] > 0.7


def test_lending_data_without_bias_has_labels_equal_to_the_truth():
    d = responsible.make_lending_data(300, flip_rate=0.0)
    assert np.array_equal(d["label"], d["qualified"])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 10}, "expected n to be an int >= 30"),
        ({"n": 100.0}, "expected n to be an int >= 30"),
        ({"minority_share": 0.0}, "strictly between 0 and 1"),
        ({"minority_share": 1.5}, "expected minority_share to be in [0.0, 1.0]"),
        ({"flip_rate": -0.1}, "expected flip_rate to be in [0.0, 1.0]"),
        ({"flip_rate": "high"}, "expected flip_rate to be a number"),
    ],
)
def test_lending_data_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        responsible.make_lending_data(**kwargs)


def test_plot_attributions_returns_a_figure_with_one_row_per_image():
    images = np.random.default_rng(0).random((3, 64))
    fig = responsible.plot_attributions(images, {"saliency": images - 0.5, "IG": -images},
                                        labels=[1, 2, 3], show=False)
    assert len(fig.axes) == 3 * 3
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize(
    "images, maps, message",
    [
        (np.zeros((2, 5)), {"a": np.zeros((2, 5))}, "square images"),
        (np.zeros((2, 4)), {}, "at least one attribution map"),
        (np.zeros((2, 4)), {"a": np.zeros((2, 9))}, "expected the images' shape"),
        (np.zeros((2, 2, 2, 2)), {"a": np.zeros((2, 2, 2, 2))}, "expected images of shape"),
    ],
)
def test_plot_attributions_rejects_bad_input(images, maps, message):
    with pytest.raises(ValueError, match=message):
        responsible.plot_attributions(images, maps, show=False)


def test_plot_curves_and_bad_lengths():
    fig = responsible.plot_curves([0, 1, 2], {"a": [1, 2, 3], "b": [3, 2, 1]}, "x", "y", logy=True, show=False)
    assert fig.axes[0].get_yscale() == "log"
    matplotlib.pyplot.close(fig)
    with pytest.raises(ValueError, match="expected \\(3,\\) like x"):
        responsible.plot_curves([0, 1, 2], {"a": [1, 2]}, "x", "y", show=False)
    with pytest.raises(ValueError, match="at least one curve"):
        responsible.plot_curves([0, 1], {}, "x", "y", show=False)


def test_roc_points_run_from_origin_to_one_one():
    fpr, tpr = responsible._roc_points(np.array([3.0, 2.0, 1.0]), np.array([0.0, 2.0]))
    assert (fpr[0], tpr[0]) == (0.0, 0.0) and (fpr[-1], tpr[-1]) == (1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    fig = responsible.plot_roc({"attack": ([3.0, 2.0], [0.0, 1.0])}, show=False)
    assert fig is not None
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize(
    "scores, message",
    [({}, "at least one"), ({"a": ([1.0], [])}, "non-empty 1-D"), ({"a": ([1.0],)}, "to map to")],
)
def test_plot_roc_rejects_bad_input(scores, message):
    with pytest.raises(ValueError, match=message):
        responsible.plot_roc(scores, show=False)


def test_plot_grouped_bars():
    fig = responsible.plot_grouped_bars({"g0": {"before": 0.5, "after": 0.4}, "g1": {"before": 0.3, "after": 0.4}},
                                        ylabel="rate", show=False)
    assert len(fig.axes[0].patches) == 4
    matplotlib.pyplot.close(fig)
    with pytest.raises(ValueError, match="expected \\['before'\\]"):
        responsible.plot_grouped_bars({"g0": {"before": 1.0}, "g1": {"after": 1.0}}, ylabel="y", show=False)
    with pytest.raises(ValueError, match="at least one group"):
        responsible.plot_grouped_bars({}, ylabel="y", show=False)
