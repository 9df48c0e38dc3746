"""Unit tests for course_lib.applications: generated ratings and tone words, and the plots."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib import applications as apps  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- ratings ---------------------------------------------------------------------------------

def test_ratings_are_deterministic_and_well_formed():
    a, b = apps.make_ratings(n_users=50, n_items=40, seed=3), apps.make_ratings(n_users=50, n_items=40, seed=3)
    assert np.array_equal(a.rating, b.rating) and np.array_equal(a.is_test, b.is_test)
    assert not np.array_equal(a.rating, apps.make_ratings(n_users=50, n_items=40, seed=4).rating)
    assert set(np.unique(a.rating)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert a.user.max() < 50 and a.item.max() < 40 and a.true_scores.shape == (50, 40)
    pairs = set(zip(a.user.tolist(), a.item.tolist()))
    assert len(pairs) == len(a.rating), "a user rates an item at most once"
    assert 0.1 < a.is_test.mean() < 0.3


def test_ratings_parts_and_matrix_agree():
    r = apps.make_ratings(n_users=30, n_items=20, seed=0)
    u, i, s = r.part(test=False)
    m = r.matrix(test=False)
    assert np.isnan(m).sum() == m.size - len(s)
    np.testing.assert_array_equal(m[u, i], s)
    assert len(r.part(test=True)[0]) + len(s) == len(r.rating)
    assert "30 users x 20 items" in r.summary()


def test_ratings_follow_the_latent_factors():
    r = apps.make_ratings(seed=0)
    truth = np.clip(r.true_scores[r.user, r.item], 1, 5)
    assert np.sqrt(np.mean((truth - r.rating) ** 2)) < 0.5 < np.std(r.rating)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_users": 0}, "n_users"),
        ({"rank": 1.5}, "rank"),
        ({"density": 1.5}, "density"),
        ({"test_fraction": 0}, "test_fraction"),
        ({"noise": -1}, "noise"),
    ],
)
def test_ratings_reject_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        apps.make_ratings(**kwargs)


# --- tone words ------------------------------------------------------------------------------

def test_tone_words_are_deterministic_and_balanced():
    a, b = apps.make_tone_words(n_per_word=5, seed=1), apps.make_tone_words(n_per_word=5, seed=1)
    assert np.array_equal(a.waves, b.waves)
    assert a.waves.shape == (5 * len(apps.TONE_WORDS), 2000) and a.waves.dtype == np.float32
    assert np.array_equal(np.bincount(a.labels), np.full(len(apps.TONE_WORDS), 5))
    assert a.words == tuple(apps.TONE_WORDS) and "2000 samples" in a.summary()


def test_tone_words_put_energy_at_the_word_tones():
    clips = apps.make_tone_words(n_per_word=3, snr_db=40.0, seed=0)
    stop = clips.waves[clips.labels == clips.words.index("stop")][0]
    spectrum = np.abs(np.fft.rfft(stop))
    peak = np.fft.rfftfreq(len(stop), 1 / clips.sample_rate)[np.argmax(spectrum)]
    assert 2.0 * 300 <= peak <= 2.0 * 450            # "stop" is one tone at twice the speaker's pitch


def test_reversed_words_share_their_average_spectrum():
    clips = apps.make_tone_words(n_per_word=40, seed=0)
    power = np.abs(np.fft.rfft(clips.waves, axis=1)) ** 2
    mean = {w: power[clips.labels == clips.words.index(w)].mean(0) for w in ("yes", "no", "stop")}
    corr = lambda a, b: np.corrcoef(a, b)[0, 1]  # noqa: E731
    assert corr(mean["yes"], mean["no"]) > corr(mean["yes"], mean["stop"])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_per_word": 0}, "n_per_word"),
        ({"sample_rate": 2000}, "sample_rate"),
        ({"duration": 0.01}, "duration"),
    ],
)
def test_tone_words_reject_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        apps.make_tone_words(**kwargs)


# --- plots -----------------------------------------------------------------------------------

def test_plots_return_figures():
    r = apps.make_ratings(n_users=20, n_items=15, seed=0)
    fig = apps.plot_rating_matrix([r.matrix(), r.true_scores], ["observed", "true"], show=False)
    assert len(fig.axes) == 3
    clips = apps.make_tone_words(n_per_word=1, seed=0)
    specs = np.random.default_rng(0).random((2, 30, 65))
    fig = apps.plot_audio(clips.waves[:2], specs, ["a", "b"], clips.sample_rate, 64, show=False)
    assert len(fig.axes) == 4
    fig = apps.plot_bars({"a": 1.0, "b": 0.5}, ylabel="rmse", reference=0.4, reference_label="floor", show=False)
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "floor"


def test_plots_reject_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        apps.plot_rating_matrix([np.zeros(3)], ["x"], show=False)
    with pytest.raises(ValueError, match="titles"):
        apps.plot_rating_matrix([np.zeros((2, 2))], ["x", "y"], show=False)
    with pytest.raises(ValueError, match="same number of clips"):
        apps.plot_audio(np.zeros((2, 10)), np.zeros((3, 4, 5)), ["a", "b"], 4000, 64, show=False)
    with pytest.raises(ValueError, match="labels"):
        apps.plot_audio(np.zeros((2, 10)), np.zeros((2, 4, 5)), ["a"], 4000, 64, show=False)
    with pytest.raises(ValueError, match="non-empty"):
        apps.plot_bars({}, ylabel="x", show=False)


# --- time series -----------------------------------------------------------------------------

def test_series_are_deterministic_and_have_the_promised_structure():
    a, b = apps.make_series(seed=0), apps.make_series(seed=0)
    assert set(a) == {"admissions", "price"}
    assert all(np.array_equal(a[k], b[k]) and a[k].dtype == np.float32 and len(a[k]) == 1095 for k in a)
    adm = a["admissions"]
    weekday = np.array([adm[d::7].mean() for d in range(7)])
    assert weekday[:5].min() > weekday[5:].max()                 # fewer admissions at weekends
    returns = np.diff(np.log(a["price"]))
    assert abs(np.corrcoef(returns[:-1], returns[1:])[0, 1]) < 0.1   # a random walk: no memory
    assert (a["price"] > 0).all()


def test_series_reject_bad_input_and_plot():
    with pytest.raises(ValueError, match="n_days"):
        apps.make_series(n_days=10)
    s = apps.make_series(n_days=200, seed=1)
    fig = apps.plot_series(s, 150, {"price": {"naive": s["price"][-40:]}}, last=40, show=False)
    assert len(fig.axes) == 4
    with pytest.raises(ValueError, match="split"):
        apps.plot_series(s, 500, show=False)
    with pytest.raises(ValueError, match="non-empty"):
        apps.plot_series({}, 10, show=False)
