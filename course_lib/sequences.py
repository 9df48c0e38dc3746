"""Token sequences for the recurrent-network chapter: loading, encoding and plotting.

- :func:`build_vocabulary` and :func:`encode_tokens` turn texts into padded id arrays (id 0 is padding);
- :func:`load_reviews` loads the generated ``review_sentiment`` task (word order and distance matter);
- :func:`load_number_chars` makes next-character data from the ``number_words`` dataset;
- :func:`plot_gradient_decay` and :func:`plot_subset_accuracy` draw the chapter's two figures.

The recurrences themselves (RNN, LSTM, GRU steps) are written in the notebook, where they are taught.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from course_lib._validate import ArgumentTypeError, check_arguments, check_array, check_int, check_str, check_strings

__all__ = [
    "build_vocabulary", "encode_tokens", "decode_tokens", "TokenTask", "load_reviews", "CharTask",
    "load_number_chars", "plot_gradient_decay", "plot_subset_accuracy", "bucket_batches",
]

PAD = "<pad>"
#: The longest padded length :func:`encode_tokens` makes.
MAX_LEN = 1_000_000
_PADDING = ("post", "pre")
_SPLITS = ("train", "val", "test")


def _check_texts(texts: Any, name: str = "texts") -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, (Sequence, np.ndarray)):
        raise ValueError(f"expected {name} to be a sequence of strings, got {type(texts).__name__}")
    texts = [str(t) if isinstance(t, np.str_) else t for t in texts]
    bad = [t for t in texts if not isinstance(t, str)]
    if bad:
        raise ValueError(f"expected {name} to hold strings, got {type(bad[0]).__name__} {bad[0]!r}")
    return texts


def _check_vocabulary(vocabulary: Any) -> list[str]:
    vocabulary = check_strings(vocabulary, "vocabulary", nonempty=True)
    if len(set(vocabulary)) != len(vocabulary):
        twice = sorted({v for v in vocabulary if vocabulary.count(v) > 1})[:5]
        raise ValueError(f"expected vocabulary to list each token once, got {twice} more than once")
    return vocabulary


def _check_ids(ids: Any, name: str) -> np.ndarray:
    """Integer ids (a float such as 2.0 is accepted if it is whole)."""
    ids = check_array(ids, name)
    if ids.dtype.kind == "b":
        raise ArgumentTypeError(f"expected {name} to be integer ids, got booleans")
    if ids.dtype.kind == "f":
        if not np.all(np.isfinite(ids)) or not np.all(ids == np.round(ids)):
            raise ValueError(f"expected {name} to be integer ids, got non-integer values")
        ids = ids.astype(np.int64)
    return ids


def build_vocabulary(texts: Sequence[str], reserved: Sequence[str] = (PAD,)) -> list[str]:
    """The sorted set of space-separated tokens of ``texts``, after the ``reserved`` ones.

    With the default, index 0 is ``<pad>``, so a padded id array can be masked with ``ids != 0``
    (``keras.layers.Embedding(..., mask_zero=True)``).

    Raises:
        ValueError: if ``texts`` is not a sequence of strings, or a reserved token occurs in them.
        TypeError: ``reserved`` is a lone string (it would be split into characters), not a list.
    """
    check_arguments(build_vocabulary, locals(), texts="own", reserved="own")
    texts = _check_texts(texts)
    reserved = check_strings(reserved, "reserved")
    if len(set(reserved)) != len(reserved) or any(not r or r.split() != [r] for r in reserved):
        raise ValueError(f"expected reserved to be distinct tokens without spaces, got {reserved!r}")
    tokens = sorted({tok for t in texts for tok in t.split()})
    clash = sorted(set(tokens) & set(reserved))
    if clash:
        raise ValueError(f"reserved tokens {clash} occur in the texts; choose other reserved names")
    return [*reserved, *tokens]


def encode_tokens(
    texts: Sequence[str], vocabulary: Sequence[str], max_len: int | None = None, padding: str = "post"
) -> np.ndarray:
    """Token ids of shape (len(texts), max_len), padded with 0 after (``post``) or before (``pre``).

    ``max_len`` defaults to the longest text. The texts are never truncated.

    Raises:
        ValueError: for an unknown token, a text longer than ``max_len`` (at most ``MAX_LEN``,
            1,000,000), a bad ``padding``, or a vocabulary whose id 0 (padding) is a token of the texts.
    """
    check_arguments(encode_tokens, locals(), vocabulary="own", max_len="own", padding="own")
    texts = _check_texts(texts)
    if padding not in _PADDING:
        raise ValueError(f"expected padding to be one of {_PADDING}, got {padding!r}")
    vocabulary = _check_vocabulary(vocabulary)
    check_int(max_len, "max_len", 1, MAX_LEN, none=True)
    index = {tok: i for i, tok in enumerate(vocabulary)}
    pad = vocabulary[0]
    clash = next((t for t in texts if pad in t.split()), None)
    if clash is not None:
        raise ValueError(f"vocabulary[0] = {pad!r} is a token of the text {clash!r:.60}, but id 0 is padding (it "
                         f"would be lost); put a padding token first, as build_vocabulary does ({PAD!r})")
    rows = []
    for t in texts:
        try:
            rows.append([index[tok] for tok in t.split()])
        except KeyError as err:
            raise ValueError(f"token {err.args[0]!r} of {t!r} is not in the vocabulary") from None
    longest = max((len(r) for r in rows), default=0)
    if max_len is None:
        max_len = longest
    if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1:
        raise ValueError(f"expected max_len to be an int >= 1, got {max_len!r}")
    if longest > max_len:
        raise ValueError(f"a text has {longest} tokens, more than max_len={max_len}")
    ids = np.zeros((len(rows), max_len), dtype="int32")
    for i, r in enumerate(rows):
        if r:
            if padding == "post":
                ids[i, : len(r)] = r
            else:
                ids[i, max_len - len(r):] = r
    return ids


def decode_tokens(ids: Any, vocabulary: Sequence[str]) -> str:
    """The text of one id sequence, padding (id 0) left out.

    Raises:
        ValueError: if ``ids`` is not 1-D or holds an id outside the vocabulary.
    """
    check_arguments(decode_tokens, locals(), ids="own", vocabulary="own")
    vocabulary = _check_vocabulary(vocabulary)
    ids = _check_ids(ids, "ids")
    if ids.ndim != 1:
        raise ValueError(f"expected a 1-D sequence of ids, got shape {ids.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= len(vocabulary)):
        raise ValueError(f"expected ids in [0, {len(vocabulary)}), got values from {ids.min()} to {ids.max()}")
    return " ".join(vocabulary[i] for i in ids if i != 0)


@dataclass(frozen=True)
class TokenTask:
    """A classification task over padded token ids, split into train/validation/test.

    ``x[split]`` is an int32 array (examples, max_len) of token ids, right-padded with 0;
    ``y[split]`` the int32 labels; ``columns[split]`` the dataset's other columns (e.g. ``kind``).
    """

    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    columns: dict[str, dict[str, np.ndarray]]
    vocabulary: list[str]
    name: str = ""

    @property
    def max_len(self) -> int:
        return int(self.x["train"].shape[1])

    def decode(self, ids: Any) -> str:
        """The text of one row of ids."""
        return decode_tokens(ids, self.vocabulary)

    def summary(self) -> str:
        """One line per split: shapes and the share of label 1."""
        lines = [f"{self.name}: vocabulary of {len(self.vocabulary)} tokens (id 0 = {self.vocabulary[0]}), "
                 f"max_len {self.max_len}"]
        for s in _SPLITS:
            lines.append(f"  {s:<5}: x {self.x[s].shape}, y {self.y[s].shape}, label 1 share {self.y[s].mean():.3f}")
        return "\n".join(lines)


def load_reviews(root: Any = None) -> TokenTask:
    """The generated ``review_sentiment`` dataset as a :class:`TokenTask` (see its DATASHEET.md).

    Labels are 1 (positive) or 0 (negative); ``columns[split]`` holds ``review``, ``kind``
    (``single``/``agree``/``contrast``) and ``connector`` (``none``/``but``/``although``).
    """
    check_arguments(load_reviews, locals())
    from course_lib.data import load_generated

    table = load_generated("review_sentiment", root=root)
    vocabulary = build_vocabulary(list(table["review"]))
    ids = encode_tokens(list(table["review"]), vocabulary)
    x, y, columns = {}, {}, {}
    for s in _SPLITS:
        rows = table["split"] == s
        x[s], y[s] = ids[rows], table["label"][rows].astype("int32")
        columns[s] = {c: table[c][rows] for c in ("review", "kind", "connector")}
    return TokenTask(x, y, columns, vocabulary, name="review_sentiment")


@dataclass(frozen=True)
class CharTask:
    """Next-character data: ``inputs`` start with ``<s>``, ``targets`` are the same text shifted by one
    and end with ``</s>``; both right-padded with 0. ``alphabet[i]`` is the symbol of id ``i``."""

    inputs: dict[str, np.ndarray]
    targets: dict[str, np.ndarray]
    texts: dict[str, np.ndarray]
    alphabet: list[str]

    @property
    def bos(self) -> int:
        return self.alphabet.index("<s>")

    @property
    def eos(self) -> int:
        return self.alphabet.index("</s>")

    def encode(self, text: str) -> np.ndarray:
        """``<s>`` followed by the ids of ``text`` (no padding, no ``</s>``)."""
        check_str(text, "text", empty=True)
        index = {c: i for i, c in enumerate(self.alphabet)}
        unknown = sorted(set(text) - set(index))
        if unknown:
            raise ValueError(f"characters {unknown} are not in the alphabet")
        return np.array([self.bos, *(index[c] for c in text)], dtype="int32")

    def decode(self, ids: Any) -> str:
        """The characters of ``ids``, leaving out padding and ``<s>``, stopping at ``</s>``.

        Raises:
            ValueError: an id outside ``[0, len(alphabet))`` (e.g. -1), or ids that are not integers.
        """
        ids = _check_ids(ids, "ids").ravel()
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.alphabet)):
            raise ValueError(f"expected ids in [0, {len(self.alphabet)}), got values from {ids.min()} to {ids.max()}")
        out = []
        for i in ids:
            if i == self.eos:
                break
            if i not in (0, self.bos):
                out.append(self.alphabet[int(i)])
        return "".join(out)


def load_number_chars(max_train: int | None = None, column: str = "english") -> CharTask:
    """Next-character data from ``number_words`` (one text per number, its fixed split).

    Args:
        max_train: keep only the first ``max_train`` training texts (all by default).
        column: ``english`` (e.g. ``three hundred five``) or ``chinese``.
    """
    check_arguments(load_number_chars, locals(), max_train="own", column="own")
    from course_lib.data import load_generated

    check_str(column, "column", ("english", "chinese"))
    if column not in ("english", "chinese"):
        raise ValueError(f"expected column 'english' or 'chinese', got {column!r}")
    if max_train is not None and (isinstance(max_train, bool) or not isinstance(max_train, int) or max_train < 1):
        raise ValueError(f"expected max_train to be None or an int >= 1, got {max_train!r}")
    table = load_generated("number_words")
    texts = table[column]
    alphabet = [PAD, "<s>", "</s>", *sorted(set("".join(texts)))]
    index = {c: i for i, c in enumerate(alphabet)}
    width = max(len(t) for t in texts) + 1
    inputs, targets, chosen = {}, {}, {}
    for s in _SPLITS:
        part = texts[table["split"] == s]
        if s == "train" and max_train is not None:
            part = part[:max_train]
        x = np.zeros((len(part), width), dtype="int32")
        y = np.zeros((len(part), width), dtype="int32")
        for i, t in enumerate(part):
            ids = [index[c] for c in t]
            x[i, : len(ids) + 1] = [index["<s>"], *ids]
            y[i, : len(ids) + 1] = [*ids, index["</s>"]]
        inputs[s], targets[s], chosen[s] = x, y, part
    return CharTask(inputs, targets, chosen, alphabet)


# --- plots ------------------------------------------------------------------------------------


def plot_gradient_decay(
    lags: Any, curves: Mapping[str, Any], title: str | None = None, ylabel: str | None = None, show: bool = True
) -> Any:
    """Gradient norms against the lag T - t, one line per model, on a logarithmic y axis.

    Raises:
        ValueError: if a curve's length differs from the lags', or a norm is not positive.
    """
    check_arguments(plot_gradient_decay, locals(), lags="array", curves="own", show="own")
    import matplotlib.pyplot as plt

    from course_lib.plots import finish_figure as _finish

    lags = np.asarray(lags)
    if lags.ndim != 1 or not len(curves):
        raise ValueError(f"expected 1-D lags and at least one curve, got lags of shape {lags.shape} "
                         f"and {len(curves)} curves")
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for name, values in curves.items():
        values = np.asarray(values, dtype=float)
        if values.shape != lags.shape:
            raise ValueError(f"curve {name!r} has shape {values.shape}, expected {lags.shape} like the lags")
        if not np.all(values > 0):
            raise ValueError(f"curve {name!r} has norms <= 0, which a log axis cannot show")
        ax.plot(lags, values, marker=".", markersize=4, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("lag T − t (time steps back)")
    ax.set_ylabel(ylabel or "gradient norm")
    ax.legend()
    ax.set_title(title or "")
    return _finish(fig, show)


def plot_subset_accuracy(
    table: Mapping[str, Mapping[str, float]], chance: float | None = 0.5, title: str | None = None, show: bool = True
) -> Any:
    """Grouped bars: ``table[model][subset]`` accuracies, with a dashed line at ``chance``.

    Raises:
        ValueError: if the models do not all have the same subsets, or an accuracy is outside [0, 1].
    """
    check_arguments(plot_subset_accuracy, locals(), table="own", chance="own")
    import matplotlib.pyplot as plt

    from course_lib.plots import finish_figure as _finish

    models = list(table)
    if not models:
        raise ValueError("expected at least one model in the table")
    subsets = list(table[models[0]])
    for m in models:
        if list(table[m]) != subsets:
            raise ValueError(f"model {m!r} has subsets {list(table[m])}, expected {subsets} like {models[0]!r}")
        bad = {k: v for k, v in table[m].items() if not 0.0 <= float(v) <= 1.0}
        if bad:
            raise ValueError(f"accuracies must lie in [0, 1]; model {m!r} has {bad}")
    width = 0.8 / len(models)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.6 * len(subsets) + 1.5), 3.6))
    x = np.arange(len(subsets))
    for k, m in enumerate(models):
        values = [float(table[m][s]) for s in subsets]
        bars = ax.bar(x + (k - (len(models) - 1) / 2) * width, values, width, label=m)
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=7, padding=1)
    if chance is not None:
        ax.axhline(chance, color="gray", linestyle="--", linewidth=1, label="chance")
    ax.set_xticks(x, subsets)
    ax.set_ylim(0, 1.3)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=8, loc="upper center", ncols=len(models) + (chance is not None), frameon=False)
    ax.set_title(title or "")
    return _finish(fig, show)


# --- bucketing ------------------------------------------------------------------------------


def bucket_batches(
    x: Any, y: Any, global_batch: int, boundaries: Sequence[int], *, seed: int = 0, strategy: Any = None
) -> Any:
    """Training batches of sequences of similar length, each trimmed to its bucket's longest length.

    Masked padding changes no result but still costs compute: a recurrent layer runs over every
    padded step. Grouping the sequences by length (bucketing, 分桶) removes most of that work.
    Bucket ``i`` holds the sequences whose length (non-zero ids) lies in ``(boundaries[i-1],
    boundaries[i]]``; each bucket is shuffled and cut into global batches (its remainder is
    dropped, a different one each epoch), then the order of all batches is shuffled.

    Args:
        x: (n, max_len) integer ids, right-padded with 0.
        y: (n,) labels, or (n, max_len) per-step targets (trimmed like ``x``).
        global_batch: sequences per batch, across all replicas.
        boundaries: increasing lengths; the last must be at least the longest sequence.
        seed: shuffle seed.
        strategy: if given, ``global_batch`` must divide evenly across its replicas.
    """
    import tensorflow as tf

    from course_lib.distribute import check_global_batch

    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"expected x as a 2-D array of integer ids, got shape {x.shape} ({x.dtype})")
    if len(y) != len(x) or y.ndim not in (1, 2) or (y.ndim == 2 and y.shape != x.shape):
        raise ValueError(f"expected y of shape ({len(x)},) or {x.shape}, got {y.shape}")
    if isinstance(global_batch, bool) or not isinstance(global_batch, int) or global_batch < 1:
        raise ValueError(f"expected global_batch to be an int >= 1, got {global_batch!r}")
    if strategy is not None:
        check_global_batch(global_batch, strategy)
    bounds = [int(b) for b in boundaries]
    if not bounds or any(b <= a for a, b in zip([0, *bounds], bounds)):
        raise ValueError(f"expected increasing positive boundaries, got {list(boundaries)}")
    lengths = (x != 0).sum(axis=1)
    if lengths.max(initial=0) > bounds[-1]:
        raise ValueError(f"the longest sequence has {lengths.max()} tokens, more than the last boundary {bounds[-1]}")
    parts, total = [], 0
    for lo, hi in zip([0, *bounds], bounds):
        rows = (lengths > lo) & (lengths <= hi)
        if 0 < rows.sum() < global_batch:
            raise ValueError(f"bucket ({lo}, {hi}] has {rows.sum()} sequences, fewer than one global batch")
        if not rows.any():
            continue
        xb = x[rows][:, :hi]
        yb = y[rows][:, :hi] if y.ndim == 2 else y[rows]
        ds = tf.data.Dataset.from_tensor_slices((xb, yb)).cache()
        ds = ds.shuffle(len(xb), seed=seed + lo, reshuffle_each_iteration=True).batch(global_batch, drop_remainder=True)
        parts.append(ds)
        total += len(xb) // global_batch
    ds = parts[0]
    for part in parts[1:]:
        ds = ds.concatenate(part)
    return ds.shuffle(total, seed=seed, reshuffle_each_iteration=True).prefetch(tf.data.AUTOTUNE)
