"""Plot helpers draw what they are given and refuse what they cannot draw."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib import plots  # noqa: E402


def teardown_function():
    plt.close("all")


def test_plot_history_panels():
    fig = plots.plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]}, show=False)
    assert len(fig.axes) == 2
    assert [line.get_label() for line in fig.axes[0].lines] == ["train", "validation"]


def test_plot_history_rejects_bad_input():
    with pytest.raises(ValueError, match="non-empty dict"):
        plots.plot_history({}, show=False)
    with pytest.raises(ValueError, match=r"metrics \['accuracy'\] not in the history"):
        plots.plot_history({"loss": [1.0]}, metrics=["accuracy"], show=False)


def test_show_images_grid():
    fig = plots.show_images(np.zeros((10, 8, 8, 1)), labels=list(range(10)), ncols=4, show=False)
    assert len(fig.axes) == 12  # 3 rows of 4, two empty
    assert fig.axes[9].get_title() == "9"
    fig = plots.show_images(np.zeros((2, 20, 30, 3), dtype=np.uint8), ncols=2, show=False)
    assert len(fig.axes) == 2


def test_show_images_rejects_bad_input():
    with pytest.raises(ValueError, match=r"expected images of shape .* got \(8, 8\)"):
        plots.show_images(np.zeros((8, 8)), show=False)
    with pytest.raises(ValueError, match="expected 3 labels, got 2"):
        plots.show_images(np.zeros((3, 4, 4)), labels=[1, 2], show=False)
    with pytest.raises(ValueError, match="ncols"):
        plots.show_images(np.zeros((3, 4, 4)), ncols=0, show=False)


def test_heatmap():
    fig = plots.plot_heatmap(np.eye(3), xlabels="abc", ylabels=[1, 2, 3], annotate=True, show=False)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match=r"expected a 2-D matrix, got shape \(3,\)"):
        plots.plot_heatmap(np.ones(3), show=False)
    with pytest.raises(ValueError, match="expected 3 xlabels"):
        plots.plot_heatmap(np.eye(3), xlabels="ab", show=False)


def test_heatmap_tilts_long_labels_that_would_touch():
    words = ["yes", "no", "up", "down", "stop", "go"]
    fig = plots.plot_heatmap(np.eye(6), xlabels=words, ylabels=words, show=False)
    assert {t.get_rotation() for t in fig.axes[0].get_xticklabels()} == {45.0}
    fig = plots.plot_heatmap(np.eye(5), xlabels=range(5), ylabels=range(5), show=False)
    assert {t.get_rotation() for t in fig.axes[0].get_xticklabels()} == {0.0}
    fig = plots.plot_heatmap(np.eye(13), xlabels=range(13), ylabels=range(13), show=False)
    assert {t.get_rotation() for t in fig.axes[0].get_xticklabels()} == {90.0}
