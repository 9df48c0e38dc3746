"""Unit tests of course_lib.language: the generated language, its referee, probabilities and plots."""

import collections
import math

import matplotlib
import numpy as np
import pytest

from course_lib import language

matplotlib.use("Agg")


def test_corpus_is_deterministic_unique_and_disjoint():
    a, b = language.make_corpus(300, 100, seed=3), language.make_corpus(300, 100, seed=3)
    assert a.train == b.train and a.test == b.test
    assert len(set(a.train)) == 300 and len(set(a.test)) == 100
    assert not set(a.train) & set(a.test)
    assert language.make_corpus(300, 100, seed=4).train != a.train
    assert "300 training and 100 held-out" in a.summary()


def test_generated_sentences_are_grammatical():
    rng = np.random.default_rng(0)
    for _ in range(2000):
        s = language.generate_sentence(rng)
        assert s.endswith(" .") and language.is_grammatical(s), s


@pytest.mark.parametrize(
    "sentence",
    [
        "the dog near the cats see a bird .",        # agreement with the attractor
        "two robots sleep the truck .",              # intransitive verb with an object
        "a teacher watches the red drone .",         # two topics
        "the dogs sees a cat .",                     # agreement
        "a dogs sleeps .",                           # determiner number
        "the dog sleeps",                            # no final full stop
        "the dog likes .",                           # transitive verb without object
        "the old old dog sleeps .",                  # two adjectives
        "the dog near the cat near a bird sleeps .",  # two subject PPs
        "",
    ],
)
def test_ungrammatical_sentences_are_rejected(sentence):
    assert not language.is_grammatical(sentence)
    assert language.sentence_log_prob(sentence) == -math.inf


def test_log_prob_of_a_simple_sentence():
    # topic 1/3, singular 1/2, det 1/3, no adjective 1/2, noun 1/4, no PP 0.6, intransitive 0.4 * 1/3, no PP 0.5
    expected = math.log(1 / 3 * 1 / 2 * 1 / 3 * 1 / 2 * 1 / 4 * 0.6 * 0.4 / 3 * 0.5)
    assert language.sentence_log_prob("a dog sleeps .") == pytest.approx(expected)


def test_probabilities_of_one_sentence_shape_sum_to_its_probability():
    # every "DET NOUN INTRANSITIVE ." sentence: P(no adjective) P(no PP) P(intransitive) P(no PP after it)
    from itertools import product

    dets = sorted(set(language.DETERMINERS["sg"] + language.DETERMINERS["pl"]))
    nouns = [n for t in language.TOPICS.values() for ns in t.values() for n in ns]
    verbs = language.INTRANSITIVE["sg"] + language.INTRANSITIVE["pl"]
    total = sum(math.exp(language.sentence_log_prob(f"{d} {n} {v} ."))
                for d, n, v in product(dets, nouns, verbs))
    assert total == pytest.approx(0.5 * 0.6 * 0.4 * 0.5)


def test_sampled_short_sentences_match_exact_probabilities_chi_square():
    """Generator vs sentence_log_prob: a chi-square goodness-of-fit test over cells of short sentences.

    Cells: "DET NOUN INTRANS ." sentences grouped by (number, determiner, verb), "DET ADJ NOUN INTRANS ."
    ones by (number, adjective), and everything else; each cell's probability is the sum of the exact
    probabilities of its sentences. Every cell expects >= 25 of the 10,000 samples, so the chi-square
    approximation holds; the test fails with probability 1e-3 if the two agree, and a wrong factor
    (e.g. a determiner or adjective probability off by 20 %) fails it.
    """
    from itertools import product

    from scipy import stats

    rng = np.random.default_rng(2)
    n = 10_000
    counts = collections.Counter(language.generate_sentence(rng) for _ in range(n))
    cells = collections.defaultdict(list)
    for number, det, verb in ((m, d, v) for m in ("sg", "pl") for d in language.DETERMINERS[m]
                              for v in language.INTRANSITIVE[m]):
        for topic in language.TOPICS.values():
            cells[number, det, verb] += [f"{det} {noun} {verb} ." for noun in topic[number]]
    for number, adj in product(("sg", "pl"), language.ADJECTIVES):
        for topic in language.TOPICS.values():
            cells[number, adj] += [f"{d} {adj} {noun} {v} ." for d, noun, v in product(
                language.DETERMINERS[number], topic[number], language.INTRANSITIVE[number])]
    expected = np.array([sum(math.exp(language.sentence_log_prob(s)) for s in c) for c in cells.values()])
    observed = np.array([sum(counts[s] for s in c) for c in cells.values()])
    expected, observed = np.append(expected, 1 - expected.sum()) * n, np.append(observed, n - observed.sum())
    assert expected.min() >= 25 and observed.sum() == n
    statistic = float(((observed - expected) ** 2 / expected).sum())
    assert stats.chi2.sf(statistic, len(expected) - 1) > 1e-3, statistic


def test_topic_of():
    assert language.topic_of("the dog near the cats sees a bird .") == "animals"
    assert language.topic_of("a teacher sleeps .") == "people"
    assert language.topic_of("a teacher watches the red drone .") is None      # two topics
    assert language.topic_of("sleeps .") is None                                # no noun
    with pytest.raises(ValueError, match="string of space-separated words"):
        language.topic_of(["the", "dog"])


def test_agreement_probes_and_other_number():
    probes = language.agreement_probes(["the dog near the cats sees a bird .", "the dog near a cat sleeps .",
                                        "two robots move ."])
    assert probes == [("the dog near the cats", "sees", "see")]
    assert language.other_number("sleep") == "sleeps" and language.other_number("watches") == "watch"
    with pytest.raises(ValueError, match="expected a verb of the grammar"):
        language.other_number("dog")
    with pytest.raises(ValueError, match="expected grammatical sentences"):
        language.agreement_probes(["the dog see ."])


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="numpy.random.Generator"):
        language.generate_sentence(0)
    with pytest.raises(ValueError, match="n_train to be an int >= 1"):
        language.make_corpus(0)
    with pytest.raises(ValueError, match="seed to be an int"):
        language.make_corpus(10, 10, seed="a")
    with pytest.raises(ValueError, match="string of space-separated words"):
        language.is_grammatical(["the", "dog"])


def test_plots_return_figures_and_validate():
    fig = language.plot_tokenizer_tradeoff({"chars": (25, 45.0), "words": (55, 9.0)}, [(25, 45.0), (60, 20.0)],
                                           show=False)
    assert fig.axes[0].get_xlabel() == "vocabulary size (token types)"
    with pytest.raises(ValueError, match="at least one tokenizer"):
        language.plot_tokenizer_tradeoff({}, show=False)
    with pytest.raises(ValueError, match="vocabulary size, mean length"):
        language.plot_tokenizer_tradeoff({"bad": (0, 3.0)}, show=False)
    fig = language.plot_attention_heads(np.full((2, 3), 1 / 3), ["a", "b", "c"], show=False)
    assert len(fig.axes[0].get_yticklabels()) == 2
    with pytest.raises(ValueError, match=r"shape \(heads, 2\)"):
        language.plot_attention_heads(np.ones((2, 3)), ["a", "b"], show=False)
    fig = language.plot_distributions({"T = 1": [0.5, 0.5]}, ["x", "y"], show=False)
    assert fig.axes[0].get_ylabel() == "probability"
    with pytest.raises(ValueError, match="expected 2 probabilities"):
        language.plot_distributions({"T": [1.0]}, ["x", "y"], show=False)
