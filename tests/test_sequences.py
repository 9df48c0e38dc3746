"""Unit tests for course_lib.sequences: vocabularies, encoding, the two loaders and the plots."""

import matplotlib
import numpy as np
import pytest

from course_lib import sequences

matplotlib.use("Agg")


def test_vocabulary_reserves_padding_and_sorts():
    vocab = sequences.build_vocabulary(["b a", "c a"])
    assert vocab == ["<pad>", "a", "b", "c"]


def test_vocabulary_rejects_bad_input():
    with pytest.raises(ValueError, match="sequence of strings"):
        sequences.build_vocabulary("a b c")
    with pytest.raises(ValueError, match="hold strings"):
        sequences.build_vocabulary(["a", 3])
    with pytest.raises(ValueError, match="reserved tokens"):
        sequences.build_vocabulary(["a <pad>"])


@pytest.mark.parametrize("padding, expected", [("post", [[1, 2, 0], [3, 0, 0]]), ("pre", [[0, 1, 2], [0, 0, 3]])])
def test_encode_pads_on_the_requested_side(padding, expected):
    vocab = ["<pad>", "a", "b", "c"]
    ids = sequences.encode_tokens(["a b", "c"], vocab, max_len=3, padding=padding)
    assert ids.dtype == np.int32
    np.testing.assert_array_equal(ids, expected)


def test_encode_defaults_to_the_longest_and_decodes_back():
    vocab = sequences.build_vocabulary(["the plot was good", "not bad"])
    ids = sequences.encode_tokens(["the plot was good", "not bad"], vocab)
    assert ids.shape == (2, 4)
    assert sequences.decode_tokens(ids[1], vocab) == "not bad"


def test_encode_rejects_bad_input():
    vocab = ["<pad>", "a"]
    with pytest.raises(ValueError, match="not in the vocabulary"):
        sequences.encode_tokens(["a z"], vocab)
    with pytest.raises(ValueError, match="more than max_len=1"):
        sequences.encode_tokens(["a a"], vocab, max_len=1)
    with pytest.raises(ValueError, match="padding"):
        sequences.encode_tokens(["a"], vocab, padding="left")
    with pytest.raises(ValueError, match="max_len"):
        sequences.encode_tokens(["a"], vocab, max_len=0)


def test_decode_rejects_bad_ids():
    with pytest.raises(ValueError, match="1-D"):
        sequences.decode_tokens(np.zeros((2, 2), int), ["<pad>", "a"])
    with pytest.raises(ValueError, match=r"ids in \[0, 2\)"):
        sequences.decode_tokens([1, 5], ["<pad>", "a"])


def test_load_reviews_splits_and_round_trips():
    task = sequences.load_reviews()
    assert {s: len(task.y[s]) for s in task.y} == {"train": 3000, "val": 500, "test": 1500}
    assert task.vocabulary[0] == "<pad>" and task.max_len == task.x["test"].shape[1]
    for s in ("train", "test"):
        assert task.decode(task.x[s][0]) == task.columns[s]["review"][0]
        assert set(np.unique(task.columns[s]["kind"])) == {"single", "agree", "contrast"}
    assert not set(task.columns["train"]["review"]) & set(task.columns["test"]["review"])
    assert "review_sentiment" in task.summary()


def test_review_labels_follow_the_rules():
    """Recompute each label from the text: 'but' -> second clause, 'although' -> first, 'not' flips."""
    positive = {"good", "great", "clever", "funny", "moving", "charming"}

    def clause(words):
        return (words[-1] in positive) != ("not" in words)

    task = sequences.load_reviews()
    for text, label, conn in zip(task.columns["train"]["review"], task.y["train"], task.columns["train"]["connector"]):
        words = text.split()
        if conn == "none":
            expected = clause(words)
        else:
            k = words.index(conn)
            expected = clause(words[k + 1:]) if conn == "but" else clause(words[:k - 1])
        assert int(expected) == label, text


def test_contrast_reviews_are_balanced_for_a_bag_of_words():
    task = sequences.load_reviews()
    contrast = task.columns["train"]["kind"] == "contrast"
    assert abs(task.y["train"][contrast].mean() - 0.5) < 0.05


def test_number_chars_shift_by_one():
    chars = sequences.load_number_chars(max_train=50)
    assert chars.inputs["train"].shape[0] == 50 and chars.alphabet[:3] == ["<pad>", "<s>", "</s>"]
    x, y = chars.inputs["train"][7], chars.targets["train"][7]
    n = int((x != 0).sum())
    assert x[0] == chars.bos and y[n - 1] == chars.eos
    np.testing.assert_array_equal(x[1:n], y[:n - 1])
    assert chars.decode(y) == chars.texts["train"][7] == chars.decode(x)
    np.testing.assert_array_equal(chars.encode(chars.texts["train"][7]), x[:n])


def test_number_chars_rejects_bad_input():
    with pytest.raises(ValueError, match="column"):
        sequences.load_number_chars(column="french")
    with pytest.raises(ValueError, match="max_train"):
        sequences.load_number_chars(max_train=0)
    chars = sequences.load_number_chars(max_train=5)
    with pytest.raises(ValueError, match="not in the alphabet"):
        chars.encode("seven!")


def test_plot_gradient_decay_returns_a_log_figure():
    fig = sequences.plot_gradient_decay([0, 1, 2], {"a": [1.0, 0.1, 0.01]}, show=False)
    assert fig.axes[0].get_yscale() == "log"


def test_plot_gradient_decay_rejects_bad_curves():
    with pytest.raises(ValueError, match="expected"):
        sequences.plot_gradient_decay([0, 1, 2], {"a": [1.0, 0.1]}, show=False)
    with pytest.raises(ValueError, match="log axis"):
        sequences.plot_gradient_decay([0, 1], {"a": [1.0, 0.0]}, show=False)
    with pytest.raises(ValueError, match="at least one curve"):
        sequences.plot_gradient_decay([0, 1], {}, show=False)


def test_plot_subset_accuracy():
    table = {"bag": {"single": 1.0, "contrast": 0.5}, "lstm": {"single": 1.0, "contrast": 0.99}}
    fig = sequences.plot_subset_accuracy(table, show=False)
    assert len(fig.axes[0].patches) == 4
    with pytest.raises(ValueError, match="same subsets|expected"):
        sequences.plot_subset_accuracy({"a": {"x": 0.5}, "b": {"y": 0.5}}, show=False)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        sequences.plot_subset_accuracy({"a": {"x": 1.5}}, show=False)
    with pytest.raises(ValueError, match="at least one model"):
        sequences.plot_subset_accuracy({}, show=False)


def test_bucket_batches_trims_each_bucket_and_keeps_pairs():
    rng = np.random.default_rng(0)
    lengths = np.repeat([3, 5, 9], 16)
    x = np.zeros((48, 10), dtype="int32")
    for i, n in enumerate(lengths):
        x[i, :n] = rng.integers(1, 20, size=n)
    y = np.arange(48)
    ds = sequences.bucket_batches(x, y, 8, [4, 10], seed=1)
    seen = []
    for xb, yb in ds:
        xb, yb = xb.numpy(), yb.numpy()
        assert xb.shape[0] == 8 and xb.shape[1] == (4 if lengths[yb[0]] <= 4 else 10)
        np.testing.assert_array_equal(xb, x[yb][:, :xb.shape[1]])
        assert len({lengths[i] <= 4 for i in yb}) == 1  # one bucket per batch
        seen.extend(yb.tolist())
    assert sorted(seen) == list(range(48))
    targets = sequences.bucket_batches(x, x, 8, [4, 10])
    assert all(xb.shape == yb.shape for xb, yb in targets)


def test_bucket_batches_rejects_bad_input():
    x = np.ones((16, 6), dtype="int32")
    with pytest.raises(ValueError, match="last boundary"):
        sequences.bucket_batches(x, np.zeros(16), 8, [4])
    with pytest.raises(ValueError, match="increasing"):
        sequences.bucket_batches(x, np.zeros(16), 8, [6, 6])
    with pytest.raises(ValueError, match="fewer than one global batch"):
        sequences.bucket_batches(x, np.zeros(16), 32, [6])
    with pytest.raises(ValueError, match="expected y"):
        sequences.bucket_batches(x, np.zeros(15), 8, [6])
