"""A small generated language for chapter 10 (language models), its grammar checker, and plots.

The chapter needs text with structure a model can learn and a referee that says whether a
generated sentence is right. This module generates it in memory, deterministically from a seed:

- a probabilistic grammar of short English sentences about animals, people or machines, e.g.
  ``"the old dogs near a cat watch some birds ."``: the verb agrees in number with the
  *subject* (not with the nearest noun: ``"the dog near the cats sees ..."``), a transitive verb
  takes an object, an intransitive one does not, and all the nouns of one sentence share a topic;
- :func:`make_corpus` -- unique sentences split into training and held-out sets;
- :func:`is_grammatical` -- the referee for generated text;
- :func:`sentence_log_prob` -- the exact probability the generator gives a sentence, so a notebook
  can compute the entropy floor no model can beat;
- :func:`topic_of` -- the topic of a sentence's nouns, to grade the toy dialogue's replies;
- :func:`agreement_probes` -- prefixes that end just before a verb whose subject is separated
  from it by a noun of the other number (a bigram model must get these wrong);
- :func:`plot_tokenizer_tradeoff`, :func:`plot_attention_heads` and :func:`plot_distributions` --
  the chapter's figures.

Tokenizers, n-gram baselines, the language model, perplexity and the sampling rules are written in
the notebook, where they are taught.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from course_lib._validate import check_arguments, check_seed

__all__ = [
    "TOPICS", "DETERMINERS", "ADJECTIVES", "PREPOSITIONS", "TRANSITIVE", "INTRANSITIVE",
    "GRAMMAR", "Corpus", "generate_sentence", "make_corpus", "is_grammatical",
    "sentence_log_prob", "agreement_probes", "other_number", "topic_of", "plot_tokenizer_tradeoff",
    "plot_attention_heads", "plot_distributions",
]

SG, PL = "sg", "pl"
#: The most sentences :func:`make_corpus` makes (n_train + n_test).
MAX_CORPUS = 100_000

#: topic -> number -> nouns
TOPICS: dict[str, dict[str, tuple[str, ...]]] = {
    "animals": {SG: ("dog", "cat", "bird", "horse"), PL: ("dogs", "cats", "birds", "horses")},
    "people": {SG: ("child", "teacher", "farmer", "doctor"),
               PL: ("children", "teachers", "farmers", "doctors")},
    "machines": {SG: ("robot", "truck", "drone", "computer"),
                 PL: ("robots", "trucks", "drones", "computers")},
}
DETERMINERS: dict[str, tuple[str, ...]] = {SG: ("the", "a", "every"), PL: ("the", "some", "many", "two")}
ADJECTIVES: tuple[str, ...] = ("small", "big", "old", "quiet", "happy", "red")
PREPOSITIONS: tuple[str, ...] = ("near", "behind", "with", "under")
TRANSITIVE: dict[str, tuple[str, ...]] = {SG: ("sees", "likes", "follows", "watches"),
                                          PL: ("see", "like", "follow", "watch")}
INTRANSITIVE: dict[str, tuple[str, ...]] = {SG: ("sleeps", "waits", "moves"), PL: ("sleep", "wait", "move")}

# The generator's probabilities (the parser uses the same ones to score a sentence).
_P_ADJ = 0.5          # an adjective in a noun phrase
_P_SUBJECT_PP = 0.4   # "near the cats" after the subject
_P_TRANSITIVE = 0.6   # a transitive verb (with an object) rather than an intransitive one
_P_OBJECT_PP = 0.3    # a prepositional phrase after the object
_P_INTRANS_PP = 0.5   # a prepositional phrase after an intransitive verb

#: The grammar, as text (``[x]`` is optional, ``n`` a number, sg or pl, ``m`` any number).
GRAMMAR = """\
S      -> NP(n) [PP] VERB(n) .          every noun of S from one topic (animals, people, machines)
VERB(n)-> TRANS(n) NP(m) [PP] | INTRANS(n) [PP]
NP(n)  -> DET(n) [ADJ] NOUN(n)          PP -> PREP NP(m)"""

_NOUN_INFO = {noun: (topic, number) for topic, by_number in TOPICS.items()
              for number, nouns in by_number.items() for noun in nouns}
_VERB_INFO = {verb: (number, transitive) for transitive, table in ((True, TRANSITIVE), (False, INTRANSITIVE))
              for number, verbs in table.items() for verb in verbs}


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"expected a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    return rng


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _noun_phrase(rng: np.random.Generator, topic: str, number: str) -> list[str]:
    words = [_pick(rng, DETERMINERS[number])]
    if rng.random() < _P_ADJ:
        words.append(_pick(rng, ADJECTIVES))
    return words + [_pick(rng, TOPICS[topic][number])]


def _number(rng: np.random.Generator) -> str:
    return SG if rng.random() < 0.5 else PL


def generate_sentence(rng: np.random.Generator) -> str:
    """One sentence of the grammar (words separated by single spaces, ending with ``" ."``).

    Raises:
        ValueError: if ``rng`` is not a ``numpy.random.Generator``.
    """
    check_arguments(generate_sentence, locals())
    rng = _check_rng(rng)
    topic = _pick(rng, tuple(TOPICS))
    number = _number(rng)
    words = _noun_phrase(rng, topic, number)
    if rng.random() < _P_SUBJECT_PP:
        words += [_pick(rng, PREPOSITIONS), *_noun_phrase(rng, topic, _number(rng))]
    if rng.random() < _P_TRANSITIVE:
        words += [_pick(rng, TRANSITIVE[number]), *_noun_phrase(rng, topic, _number(rng))]
        if rng.random() < _P_OBJECT_PP:
            words += [_pick(rng, PREPOSITIONS), *_noun_phrase(rng, topic, _number(rng))]
    else:
        words.append(_pick(rng, INTRANSITIVE[number]))
        if rng.random() < _P_INTRANS_PP:
            words += [_pick(rng, PREPOSITIONS), *_noun_phrase(rng, topic, _number(rng))]
    return " ".join(words + ["."])


@dataclass(frozen=True)
class Corpus:
    """Unique generated sentences: ``train`` and ``test`` never share a sentence."""

    train: list[str]
    test: list[str]
    seed: int

    def summary(self) -> str:
        words = [len(s.split()) for s in self.train + self.test]
        return (f"{len(self.train)} training and {len(self.test)} held-out sentences "
                f"(seed {self.seed}), {min(words)} to {max(words)} tokens each")


def make_corpus(n_train: int = 6000, n_test: int = 1000, seed: int = 0) -> Corpus:
    """``n_train + n_test`` distinct sentences from :func:`generate_sentence`, the first ones for training.

    At most ``MAX_CORPUS`` (100,000) sentences in all; the sentences are drawn at most
    ``20 * (n_train + n_test) + 1000`` times, so the call always ends.

    Raises:
        ValueError: if a size is not a positive int, the total is over ``MAX_CORPUS``, or the draws
            run out before enough distinct sentences were found.
    """
    check_arguments(make_corpus, locals(), n_train="own", n_test="own")
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"expected {name} to be an int >= 1, got {value!r}")
    if n_train + n_test > MAX_CORPUS:
        raise ValueError(f"expected n_train + n_test <= {MAX_CORPUS:,} sentences, got {n_train + n_test:,}")
    check_seed(seed)
    rng = np.random.default_rng(seed)
    seen: dict[str, None] = {}
    budget = 20 * (n_train + n_test) + 1000
    while len(seen) < n_train + n_test:
        if budget == 0:
            raise ValueError(f"found only {len(seen):,} distinct sentences in {20 * (n_train + n_test) + 1000:,} "
                             f"draws; ask for fewer (n_train + n_test = {n_train + n_test:,})")
        budget -= 1
        seen.setdefault(generate_sentence(rng))
    sentences = list(seen)
    return Corpus(sentences[:n_train], sentences[n_train:], int(seed))


# --- the referee ------------------------------------------------------------------------------


def _tokens(sentence: Any) -> list[str]:
    if isinstance(sentence, np.str_):
        sentence = str(sentence)
    if not isinstance(sentence, str):
        raise ValueError(f"expected a sentence as a string of space-separated words, got {type(sentence).__name__}")
    return sentence.split()


def _parse_np(tokens: list[str], i: int) -> tuple[str, str, int, float] | None:
    """Parse ``DET [ADJ] NOUN`` at ``i``: (topic, number, next index, log-prob given the number)."""
    if i >= len(tokens):
        return None
    det, j, logp = tokens[i], i + 1, 0.0
    if j < len(tokens) and tokens[j] in ADJECTIVES:
        j, logp = j + 1, math.log(_P_ADJ / len(ADJECTIVES))
    else:
        logp = math.log(1 - _P_ADJ)
    if j >= len(tokens) or tokens[j] not in _NOUN_INFO:
        return None
    topic, number = _NOUN_INFO[tokens[j]]
    if det not in DETERMINERS[number]:
        return None
    logp += -math.log(len(DETERMINERS[number])) - math.log(len(TOPICS[topic][number]))
    return topic, number, j + 1, logp


def _parse_pp(tokens: list[str], i: int, topic: str) -> tuple[int, float] | None:
    """Parse ``PREP NP`` of ``topic`` at ``i``: (next index, log-prob)."""
    if i >= len(tokens) or tokens[i] not in PREPOSITIONS:
        return None
    np_ = _parse_np(tokens, i + 1)
    if np_ is None or np_[0] != topic:
        return None
    return np_[2], -math.log(len(PREPOSITIONS)) + math.log(0.5) + np_[3]


def sentence_log_prob(sentence: str) -> float:
    """The natural log of the probability that :func:`generate_sentence` produces ``sentence``.

    Every sentence has exactly one derivation, so this is the sum of the log-probabilities of the
    generator's choices; ``-inf`` for a sentence the grammar cannot produce.

    Raises:
        ValueError: if ``sentence`` is not a string.
    """
    tokens = _tokens(sentence)
    if len(tokens) < 2 or tokens[-1] != ".":
        return -math.inf
    tokens = tokens[:-1]
    subject = _parse_np(tokens, 0)
    if subject is None:
        return -math.inf
    topic, number, i, logp = subject
    logp += -math.log(len(TOPICS)) + math.log(0.5)
    pp = _parse_pp(tokens, i, topic)
    if pp is not None:
        i, logp = pp[0], logp + math.log(_P_SUBJECT_PP) + pp[1]
    else:
        logp += math.log(1 - _P_SUBJECT_PP)
    if i >= len(tokens) or tokens[i] not in _VERB_INFO:
        return -math.inf
    verb_number, transitive = _VERB_INFO[tokens[i]]
    if verb_number != number:
        return -math.inf
    i += 1
    if transitive:
        logp += math.log(_P_TRANSITIVE) - math.log(len(TRANSITIVE[number]))
        obj = _parse_np(tokens, i)
        if obj is None or obj[0] != topic:
            return -math.inf
        i, logp = obj[2], logp + math.log(0.5) + obj[3]
        p_pp = _P_OBJECT_PP
    else:
        logp += math.log(1 - _P_TRANSITIVE) - math.log(len(INTRANSITIVE[number]))
        p_pp = _P_INTRANS_PP
    if i == len(tokens):
        return logp + math.log(1 - p_pp)
    pp = _parse_pp(tokens, i, topic)
    if pp is None or pp[0] != len(tokens):
        return -math.inf
    return logp + math.log(p_pp) + pp[1]


def is_grammatical(sentence: str) -> bool:
    """Whether the grammar can produce ``sentence`` (agreement, transitivity, one topic, final ``.``).

    Raises:
        ValueError: if ``sentence`` is not a string.
    """
    return sentence_log_prob(sentence) > -math.inf


def topic_of(sentence: str) -> str | None:
    """The topic of the nouns of ``sentence`` (``"animals"``, ``"people"`` or ``"machines"``).

    None when the sentence has no noun of the grammar or mixes nouns of several topics; the sentence
    need not be grammatical otherwise (a chapter-10 dialogue reply is graded on both).

    Raises:
        ValueError: if ``sentence`` is not a string.
    """
    topics = {_NOUN_INFO[w][0] for w in _tokens(sentence) if w in _NOUN_INFO}
    return topics.pop() if len(topics) == 1 else None


def other_number(verb: str) -> str:
    """The same verb in the other number: ``sees`` <-> ``see``, ``sleep`` <-> ``sleeps``.

    Raises:
        ValueError: if ``verb`` is not a verb of the grammar.
    """
    check_arguments(other_number, locals(), verb="own")
    if verb not in _VERB_INFO:
        raise ValueError(f"expected a verb of the grammar, one of {sorted(_VERB_INFO)}, got {verb!r}")
    number, transitive = _VERB_INFO[verb]
    table = TRANSITIVE if transitive else INTRANSITIVE
    return table[PL if number == SG else SG][table[number].index(verb)]


def agreement_probes(sentences: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(prefix, right verb, wrong verb)`` for each sentence whose subject is followed by a
    prepositional phrase with a noun of the *other* number ("an attractor"), e.g.
    ``("the dog near the cats", "sees", "see")``.

    Raises:
        ValueError: if a sentence is not a grammatical string.
    """
    check_arguments(agreement_probes, locals(), sentences="own")
    probes = []
    for sentence in sentences:
        if not is_grammatical(sentence):
            raise ValueError(f"expected grammatical sentences, got {sentence!r}")
        tokens = _tokens(sentence)
        _, number, i, _ = _parse_np(tokens, 0)
        if tokens[i] not in PREPOSITIONS:
            continue
        _, attractor, j, _ = _parse_np(tokens, i + 1)
        if attractor != number:
            probes.append((" ".join(tokens[:j]), tokens[j], other_number(tokens[j])))
    return probes


# --- plots ------------------------------------------------------------------------------------


def plot_tokenizer_tradeoff(
    points: Mapping[str, tuple[float, float]],
    curve: Sequence[tuple[float, float]] | None = None,
    curve_label: str = "BPE, one point per merge",
    title: str | None = None,
    show: bool = True,
) -> Any:
    """Mean tokens per sentence against vocabulary size: labelled tokenizers and an optional curve.

    Args:
        points: ``{label: (vocabulary size, mean tokens per sentence)}``, drawn as labelled dots.
        curve: ``(vocabulary size, mean tokens per sentence)`` pairs drawn as a line (e.g. BPE after
            each merge).

    Raises:
        ValueError: if there are no points or a point is not two positive numbers.
    """
    check_arguments(plot_tokenizer_tradeoff, locals(), curve="own")
    import matplotlib.pyplot as plt

    from course_lib.plots import finish_figure

    if not points:
        raise ValueError("expected at least one tokenizer to plot")
    pairs = list(points.items()) + [("curve", p) for p in (curve or [])]
    for label, point in pairs:
        if len(point) != 2 or not all(np.isfinite(v) and v > 0 for v in point):
            raise ValueError(f"expected (vocabulary size, mean length) > 0 for {label!r}, got {point!r}")
    every = np.array([p for _, p in pairs], dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    if curve:
        c = np.asarray(curve, dtype=float)
        ax.plot(c[:, 0], c[:, 1], color="tab:blue", lw=1.5, label=curve_label)
    for label, (v, n) in points.items():
        ax.plot([v], [n], marker="o", color="tab:red", ls="none")
        ax.annotate(label, (v, n), textcoords="offset points", xytext=(6, 5), fontsize=9)
    ax.set_xlabel("vocabulary size (token types)")
    ax.set_ylabel("mean tokens per sentence")
    ax.set_ylim(0, every[:, 1].max() * 1.15)
    ax.set_xlim(0, every[:, 0].max() * 1.25)
    if curve:
        ax.legend(loc="upper right", fontsize=9)
    ax.set_title(title or "bigger vocabulary, shorter sequences")
    return finish_figure(fig, show)


def plot_attention_heads(
    weights: Any,
    tokens: Sequence[str],
    title: str | None = None,
    show: bool = True,
) -> Any:
    """Attention weights of one query position, one row per head, the keys' tokens on the x axis.

    Args:
        weights: array ``(heads, len(tokens))``, each row a distribution over the keys.

    Raises:
        ValueError: if the shape does not match the tokens.
    """
    check_arguments(plot_attention_heads, locals(), weights="array", tokens="own")
    import matplotlib.pyplot as plt

    from course_lib.plots import finish_figure

    w = np.asarray(weights, dtype=float)
    if w.ndim != 2 or w.shape[1] != len(tokens):
        raise ValueError(f"expected weights of shape (heads, {len(tokens)}), got {w.shape}")
    fig, ax = plt.subplots(figsize=(1.8 + 0.8 * w.shape[1], 1.2 + 0.45 * w.shape[0]))
    im = ax.imshow(w, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="weight")
    ax.set_xticks(range(w.shape[1]), [str(t) for t in tokens], rotation=30, ha="right")
    ax.set_yticks(range(w.shape[0]), [f"head {i}" for i in range(w.shape[0])])
    ax.set_xlabel("key (earlier token)")
    ax.set_title(title or "")
    return finish_figure(fig, show)


def plot_distributions(
    distributions: Mapping[str, Any],
    tokens: Sequence[str],
    title: str | None = None,
    show: bool = True,
) -> Any:
    """Grouped bars: one probability distribution over ``tokens`` per entry of ``distributions``.

    Raises:
        ValueError: if there is nothing to plot or a distribution's length differs from ``tokens``.
    """
    check_arguments(plot_distributions, locals(), tokens="own")
    import matplotlib.pyplot as plt

    from course_lib.plots import finish_figure

    if not distributions or not tokens:
        raise ValueError("expected at least one distribution and one token")
    arrays = {k: np.asarray(v, dtype=float) for k, v in distributions.items()}
    for name, p in arrays.items():
        if p.shape != (len(tokens),):
            raise ValueError(f"expected {len(tokens)} probabilities for {name!r}, got shape {p.shape}")
    x = np.arange(len(tokens))
    width = 0.8 / len(arrays)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.65 * len(tokens) + 2), 3.6))
    for i, (name, p) in enumerate(arrays.items()):
        ax.bar(x + (i - (len(arrays) - 1) / 2) * width, p, width, label=name)
    ax.set_xticks(x, [str(t) for t in tokens], rotation=35, ha="right")
    ax.set_ylabel("probability")
    ax.set_xlabel("next token")
    ax.set_ylim(0, max(float(p.max()) for p in arrays.values()) * 1.15)
    ax.legend(fontsize=9)
    ax.set_title(title or "")
    return finish_figure(fig, show)
