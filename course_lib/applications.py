"""Generated data and figures for chapter 12 (applications): ratings, tone "speech", plots.

The chapter trains a small working model for three applications. Their data is generated here, in
memory and deterministically from a seed, because no package ships it and the machines that run
the course have no internet:

- :func:`make_ratings` -- star ratings of items by users, made from *latent factors* (each user
  and item is a hidden vector; a rating is their dot product plus biases, noise and rounding), the
  structure that matrix factorisation (recommender systems, 推荐系统) recovers;
- :func:`make_tone_words` -- short "spoken words" made of tone sequences with a random speaker
  pitch, tempo, onset, harmonics and background noise (speech recognition, 语音识别); two words use
  the same tones in opposite order, so a model must hear *order*, not just pitch;
- :func:`make_series` -- daily hospital admissions (trend, yearly and weekly cycles, Poisson noise)
  and a random-walk stock price, for the honest forecasting example of medicine and finance;
- :func:`plot_rating_matrix`, :func:`plot_audio`, :func:`plot_bars` and :func:`plot_series` --
  the chapter's figures.

The models, the formulas (the MF prediction, RMSE, recall@k, the STFT, Griffin-Lim, the VAE's KL
term) are written in the notebook, where they are taught.
"""

from __future__ import annotations

import math

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from course_lib._validate import check_arguments, check_float, check_seed

from course_lib.plots import finish_figure

__all__ = [
    "Ratings", "make_ratings", "TONE_WORDS", "ToneWords", "make_tone_words",
    "make_series", "plot_rating_matrix", "plot_audio", "plot_bars", "plot_series",
]


def _positive_int(name: str, value: Any, minimum: int = 1, maximum: int = 100_000) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not minimum <= value <= maximum:
        raise ValueError(f"expected {name} to be an int in [{minimum}, {maximum:,}], got {value!r}")
    return int(value)


def _fraction(name: str, value: Any, low: float = 0.0, high: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not low < value < high:
        raise ValueError(f"expected {name} to be a number strictly between {low} and {high}, got {value!r}")
    return float(value)


# --- recommender systems --------------------------------------------------------------------


@dataclass(frozen=True)
class Ratings:
    """Observed ratings as (user, item, rating) triples, split into training and test triples.

    ``true_scores`` is the noiseless ``mu + b_u + b_i + p_u . q_i`` matrix the ratings were drawn
    from (users x items), kept so a notebook can say how good the best possible model would be.
    """

    n_users: int
    n_items: int
    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    is_test: np.ndarray
    true_scores: np.ndarray

    def part(self, test: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``(user, item, rating)`` arrays of the test (``test=True``) or training part."""
        keep = self.is_test == bool(test)
        return self.user[keep], self.item[keep], self.rating[keep]

    def matrix(self, test: bool = False) -> np.ndarray:
        """The users x items rating matrix of one part, ``NaN`` where no rating was observed."""
        m = np.full((self.n_users, self.n_items), np.nan, dtype="float32")
        u, i, r = self.part(test)
        m[u, i] = r
        return m

    def summary(self) -> str:
        n_test = int(self.is_test.sum())
        density = len(self.rating) / (self.n_users * self.n_items)
        return (f"{self.n_users} users x {self.n_items} items, {len(self.rating)} ratings "
                f"({density:.1%} of the matrix): {len(self.rating) - n_test} training, {n_test} test")


def make_ratings(
    n_users: int = 400,
    n_items: int = 300,
    rank: int = 4,
    density: float = 0.12,
    noise: float = 0.35,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> Ratings:
    """Star ratings (1-5) generated from latent factors, deterministic from ``seed``.

    Every user u has a taste vector p_u and a bias b_u, every item i a vector q_i and a bias b_i
    (``rank`` components each). The true score is ``mu + b_u + b_i + p_u . q_i`` with mu = 3.4; a
    rating adds Gaussian noise of std ``noise``, then rounds to whole stars in 1..5. Each user rates
    a random ``density`` share of the items (at least 5 items); ``test_fraction`` of all ratings are
    held out.

    Raises:
        ValueError: for a size outside its range (n_users <= 100,000, n_items <= 100,000, at most
            10**8 user-item pairs, rank <= 1,000), a fraction outside (0, 1), a noise that is not a
            finite number >= 0 (NaN would make NaN ratings), or a bad seed.
    """
    check_arguments(make_ratings, locals(),
                    n_users="own", n_items="own", rank="own", density="own", noise="own", test_fraction="own")
    n_users, n_items = _positive_int("n_users", n_users, 2), _positive_int("n_items", n_items, 10)
    rank = _positive_int("rank", rank, 1, 1000)
    if n_users * n_items > 10**8:
        raise ValueError(f"expected n_users * n_items <= 10**8 (the true-score matrix), got {n_users * n_items:,}")
    density, test_fraction = _fraction("density", density), _fraction("test_fraction", test_fraction)
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise < math.inf:
        raise ValueError(f"expected noise to be a finite number >= 0, got {noise!r}")
    noise = float(noise) + 0.0  # -0.0 -> 0.0 (NumPy's normal() refuses a negative zero scale)
    check_seed(seed)
    rng = np.random.default_rng(seed)
    p = rng.normal(0.0, 1.0 / rank ** 0.25, size=(n_users, rank))
    q = rng.normal(0.0, 1.0 / rank ** 0.25, size=(n_items, rank))
    b_u, b_i = rng.normal(0.0, 0.3, size=n_users), rng.normal(0.0, 0.5, size=n_items)
    true_scores = 3.4 + b_u[:, None] + b_i[None, :] + p @ q.T
    per_user = max(5, round(density * n_items))
    user = np.repeat(np.arange(n_users), per_user)
    item = np.concatenate([rng.choice(n_items, size=per_user, replace=False) for _ in range(n_users)])
    noisy = true_scores[user, item] + rng.normal(0.0, noise, size=len(user))
    rating = np.clip(np.rint(noisy), 1, 5).astype("float32")
    is_test = rng.random(len(user)) < test_fraction
    return Ratings(n_users, n_items, user.astype("int32"), item.astype("int32"), rating, is_test,
                   true_scores.astype("float32"))


# --- speech recognition ---------------------------------------------------------------------

#: word -> its tones, as multiples of the speaker's base pitch. "yes"/"no" and "up"/"down" use
#: the same tones in opposite order.
TONE_WORDS: dict[str, tuple[float, ...]] = {
    "yes": (1.0, 1.5),
    "no": (1.5, 1.0),
    "up": (1.0, 1.25, 1.5),
    "down": (1.5, 1.25, 1.0),
    "stop": (2.0,),
    "go": (1.25, 2.0, 1.25),
}


@dataclass(frozen=True)
class ToneWords:
    """Generated clips of tone "words": ``waves`` (n, samples) float32, ``labels`` (n,), ``words``."""

    waves: np.ndarray
    labels: np.ndarray
    words: tuple[str, ...]
    sample_rate: int

    def summary(self) -> str:
        n, samples = self.waves.shape
        return (f"{n} clips of {samples} samples ({samples / self.sample_rate:.2f} s at {self.sample_rate} Hz), "
                f"{len(self.words)} words: {', '.join(self.words)}")


def make_tone_words(
    n_per_word: int = 100, sample_rate: int = 4000, duration: float = 0.5, snr_db: float = 10.0, seed: int = 0
) -> ToneWords:
    """Clips of synthetic spoken "words" (:data:`TONE_WORDS`), deterministic from ``seed``.

    Each clip draws a speaker pitch (base 300-450 Hz), a word length (55-85 % of the clip), an
    onset, a loudness and the strength of a second harmonic; each tone of the word gets an equal
    share of the word's length with smooth attack and release; white noise is added at a
    signal-to-noise ratio of about ``snr_db`` decibels. Clips are shuffled.

    Raises:
        ValueError: for a count outside [1, 10,000], a rate too low for the highest tone (or over
            192 kHz), a clip shorter than 0.1 s or longer than 10 s, a snr_db that is not a finite
            number, or a bad seed.
    """
    check_arguments(make_tone_words, locals(), n_per_word="own", sample_rate="own", duration="own", snr_db="own")
    n_per_word = _positive_int("n_per_word", n_per_word, 1, 10_000)
    sample_rate = _positive_int("sample_rate", sample_rate, 1, 192_000)
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not 0.1 <= duration <= 10:
        raise ValueError(f"expected duration to be a number of seconds in [0.1, 10], got {duration!r}")
    check_float(snr_db, "snr_db", -100.0, 200.0)
    check_seed(seed)
    highest = 450 * max(max(t) for t in TONE_WORDS.values()) * 2     # second harmonic of the top tone
    if sample_rate <= 2 * highest:
        raise ValueError(f"expected sample_rate > {2 * highest:.0f} Hz (twice the highest harmonic), got {sample_rate}")
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration < 0.1:
        raise ValueError(f"expected duration to be a number of seconds >= 0.1, got {duration!r}")
    rng = np.random.default_rng(seed)
    n = int(round(duration * sample_rate))
    t = np.arange(n) / sample_rate
    words = tuple(TONE_WORDS)
    labels = np.repeat(np.arange(len(words)), n_per_word)
    rng.shuffle(labels)
    waves = np.zeros((len(labels), n))
    for row, label in enumerate(labels):
        tones = TONE_WORDS[words[label]]
        base, length = rng.uniform(300, 450), rng.uniform(0.55, 0.85) * duration
        start, loud, second = rng.uniform(0, duration - length), rng.uniform(0.5, 1.0), rng.uniform(0.1, 0.5)
        seg = length / len(tones)
        for k, ratio in enumerate(tones):
            t0 = start + k * seg
            inside = (t >= t0) & (t < t0 + seg)
            env = np.sin(np.pi * np.clip((t - t0) / seg, 0, 1)) ** 0.5 * inside
            f = base * ratio
            waves[row] += loud * env * (np.sin(2 * np.pi * f * t) + second * np.sin(4 * np.pi * f * t))
        power = np.mean(waves[row] ** 2)
        waves[row] += rng.normal(0.0, np.sqrt(power / 10 ** (snr_db / 10)), size=n)
    return ToneWords(waves.astype("float32"), labels.astype("int32"), words, sample_rate)


# --- medicine and finance: two daily time series --------------------------------------------


def make_series(n_days: int = 1095, seed: int = 0) -> dict[str, np.ndarray]:
    """Two generated daily series (float32, length ``n_days``), deterministic from ``seed``.

    - ``"admissions"``: patients admitted to a hospital per day, Poisson counts around a level with
      a slow trend, a yearly cycle (winter peak) and a weekly cycle (fewer on weekends): a series
      with structure a forecaster can learn;
    - ``"price"``: a stock price following a geometric random walk (daily log-returns
      N(0.0003, 0.015)): tomorrow's change is independent of the past, so no forecaster can beat
      "tomorrow = today" except by luck.

    Raises:
        ValueError: if ``n_days`` is not an int in [60, 100,000], or a bad seed.
    """
    check_arguments(make_series, locals(), n_days="own")
    n_days = _positive_int("n_days", n_days, 60)
    check_seed(seed)
    rng = np.random.default_rng(seed)
    t = np.arange(n_days)
    weekly = np.array([8.0, 6.0, 4.0, 2.0, 0.0, -12.0, -10.0])[t % 7]
    level = 100 + 0.02 * t + 15 * np.cos(2 * np.pi * t / 365.25) + weekly
    admissions = rng.poisson(level).astype("float32")
    price = (100 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, n_days)))).astype("float32")
    return {"admissions": admissions, "price": price}


def plot_series(
    series: dict[str, Any], split: int, forecasts: dict[str, Any] | None = None, last: int = 42, show: bool = True
) -> Any:
    """Each series in its own column: the whole series with the train/test boundary at index ``split``
    (top), and its last ``last`` days with the forecasts (name -> {label: array aligned with the end
    of the series}) (bottom)."""
    check_arguments(plot_series, locals(), series="own", split="own")
    import matplotlib.pyplot as plt

    if not series:
        raise ValueError("expected a non-empty dict of name -> 1-D series")
    fig, axes = plt.subplots(2, len(series), figsize=(5.2 * len(series), 5.0), squeeze=False)
    for j, (name, values) in enumerate(series.items()):
        values = np.asarray(values, dtype=float)
        if values.ndim != 1 or not 0 < split < len(values):
            raise ValueError(f"expected 1-D series longer than split={split}, got {name} of shape {values.shape}")
        days = np.arange(len(values))
        top, bottom = axes[0, j], axes[1, j]
        top.plot(days, values, lw=0.6, color="0.4")
        top.axvline(split, color="k", ls="--", lw=1, label="train | test")
        top.axvspan(len(values) - last, len(values), color="C2", alpha=0.2, label=f"last {last} days")
        top.set_title(name)
        top.legend(fontsize=7, loc="upper left")
        bottom.plot(days[-last:], values[-last:], "k.-", lw=0.8, label="data")
        for i, (label, pred) in enumerate(((forecasts or {}).get(name) or {}).items()):
            pred = np.asarray(pred, dtype=float)[-last:]
            bottom.plot(days[-len(pred):], pred, lw=1.2, color=f"C{i}", label=label)
        bottom.set_xlabel("day")
        bottom.legend(fontsize=7, loc="upper left")
    return finish_figure(fig, show)


# --- figures ---------------------------------------------------------------------------------


def plot_rating_matrix(
    matrices: Sequence[Any], titles: Sequence[str], max_users: int = 60, max_items: int = 80, show: bool = True
) -> Any:
    """Side-by-side heatmaps of rating matrices (users x items; NaN = not rated, drawn white)."""
    check_arguments(plot_rating_matrix, locals(), matrices="arrays", titles="own")
    import matplotlib.pyplot as plt

    mats = [np.asarray(m, dtype=float) for m in matrices]
    if not mats or any(m.ndim != 2 for m in mats):
        raise ValueError(f"expected one or more 2-D matrices, got shapes {[m.shape for m in mats]}")
    if len(titles) != len(mats):
        raise ValueError(f"expected {len(mats)} titles, got {len(titles)}")
    fig, axes = plt.subplots(1, len(mats), figsize=(4.2 * len(mats), 3.4), squeeze=False, layout="constrained")
    for ax, m, title in zip(axes[0], mats, titles):
        im = ax.imshow(m[:max_users, :max_items], cmap="viridis", vmin=1, vmax=5, aspect="auto",
                       interpolation="nearest")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("item")
        ax.set_ylabel("user")
        ax.grid(False)
    fig.colorbar(im, ax=list(axes[0]), label="stars", shrink=0.9)
    return finish_figure(fig, show, tight=False)


def plot_audio(
    waves: Any, spectrograms: Any, labels: Sequence[str], sample_rate: int, frame_step: int, show: bool = True
) -> Any:
    """Waveforms (top row) and their log-magnitude spectrograms (bottom row), one column per clip.

    ``spectrograms`` has shape (clips, frames, bins), bins running from 0 Hz to ``sample_rate / 2``.
    """
    check_arguments(plot_audio, locals(), waves="arrays", spectrograms="arrays", labels="own",
                    sample_rate=(1, 192_000), frame_step=(1, 10**6))
    import matplotlib.pyplot as plt

    waves, specs = np.asarray(waves, dtype=float), np.asarray(spectrograms, dtype=float)
    if waves.ndim != 2 or specs.ndim != 3 or len(waves) != len(specs):
        raise ValueError(f"expected waves (clips, samples) and spectrograms (clips, frames, bins) with the "
                         f"same number of clips, got shapes {waves.shape} and {specs.shape}")
    if len(labels) != len(waves):
        raise ValueError(f"expected {len(waves)} labels, got {len(labels)}")
    n = len(waves)
    fig, axes = plt.subplots(2, n, figsize=(2.6 * n, 4.4), squeeze=False)
    for j in range(n):
        t = np.arange(waves.shape[1]) / sample_rate
        axes[0, j].plot(t, waves[j], lw=0.4)
        axes[0, j].set_title(str(labels[j]))
        axes[0, j].set_xlabel("time (s)")
        frames, bins = specs[j].shape
        axes[1, j].imshow(specs[j].T, origin="lower", aspect="auto", cmap="magma",
                          extent=(0, frames * frame_step / sample_rate, 0, sample_rate / 2))
        axes[1, j].set_xlabel("time (s)")
        axes[1, j].grid(False)
    axes[0, 0].set_ylabel("amplitude")
    axes[1, 0].set_ylabel("frequency (Hz)")
    return finish_figure(fig, show)


def plot_bars(
    values: dict[str, float], ylabel: str, title: str | None = None, reference: float | None = None,
    reference_label: str = "best possible", show: bool = True,
) -> Any:
    """A bar chart of named values (e.g. a model against its baselines), with an optional reference line."""
    check_arguments(plot_bars, locals())
    import matplotlib.pyplot as plt

    if not values:
        raise ValueError("expected a non-empty dict of name -> value")
    names, heights = list(values), [float(v) for v in values.values()]
    fig, ax = plt.subplots(figsize=(1.0 + 1.5 * len(names), 3.0))
    bars = ax.bar(names, heights, color=[f"C{i}" for i in range(len(names))])
    ax.bar_label(bars, fmt="%.3g", fontsize=8)
    if reference is not None:
        ax.axhline(reference, color="k", ls="--", lw=1, label=reference_label)
        ax.legend(fontsize=8)
    top = max(heights + ([reference] if reference is not None else []))
    if top > 0:
        ax.set_ylim(0, 1.2 * top)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return finish_figure(fig, show)
