"""Unit tests for course_lib.pathway: the course graph, model choice under constraints, timing."""

import matplotlib

matplotlib.use("Agg")

import pytest

from course_lib import pathway
from course_lib.pathway import Candidate


# --- the course graph ---------------------------------------------------------------------------

def test_every_chapter_has_prerequisites_and_a_title():
    assert set(pathway.CHAPTERS) == set(pathway.PREREQUISITES)
    assert sorted(pathway.CHAPTERS) == [f"{i:02d}" for i in range(17)]


def test_chapter_numbers_are_a_valid_study_order():
    order = pathway.learning_order()
    assert order == sorted(pathway.CHAPTERS)
    seen = set()
    for c in order:
        assert set(pathway.PREREQUISITES[c]) <= seen
        seen.add(c)


def test_learning_order_prefers_smallest_ready_chapter():
    graph = {"b": (), "a": (), "c": ("a",), "d": ("b", "c")}
    assert pathway.learning_order(graph) == ["a", "b", "c", "d"]


def test_learning_order_rejects_a_cycle():
    with pytest.raises(ValueError, match="cycle among \\['x', 'y'\\]"):
        pathway.learning_order({"s": (), "x": ("y",), "y": ("x",)})


@pytest.mark.parametrize("graph, message", [
    ({"a": ("zz",)}, "unknown chapters \\['zz'\\]"),
    ({"a": ("a",)}, "lists itself"),
    ({"a": "b", "b": ()}, "sequence of chapters"),
    ({}, "non-empty mapping"),
])
def test_bad_graphs_raise(graph, message):
    with pytest.raises(ValueError, match=message):
        pathway.learning_order(graph)


def test_prerequisites_of_collects_all_ancestors_in_order():
    assert pathway.prerequisites_of("10") == ["00", "01", "02", "03", "04", "06", "07", "08"]
    assert pathway.prerequisites_of("00") == []
    assert pathway.prerequisites_of("16") == [c for c in sorted(pathway.CHAPTERS) if c != "16"]


def test_prerequisites_of_unknown_chapter():
    with pytest.raises(ValueError, match="unknown chapter '99'"):
        pathway.prerequisites_of("99")


def test_chapter_depths_are_longest_chains():
    depth = pathway.chapter_depths()
    assert depth["00"] == 0 and depth["04"] == 4 and depth["08"] == 7 and depth["09"] == 8
    assert depth["16"] == max(depth.values())


def test_plot_course_map_returns_a_figure():
    fig = pathway.plot_course_map(highlight=["10"], show=False)
    assert len(fig.axes) == 1
    arrows = sum(len(v) for v in pathway.PREREQUISITES.values())
    assert len(fig.axes[0].texts) == 2 * len(pathway.CHAPTERS) + arrows     # number, title, one per arrow


def test_plot_course_map_validates():
    with pytest.raises(ValueError, match="no title for chapters \\['16'\\]"):
        pathway.plot_course_map(chapters={k: v for k, v in pathway.CHAPTERS.items() if k != "16"}, show=False)
    with pytest.raises(ValueError, match="cannot highlight unknown chapters \\['42'\\]"):
        pathway.plot_course_map(highlight=["42"], show=False)


# --- choosing a model ---------------------------------------------------------------------------

CANDIDATES = [
    Candidate("tiny", 1_000, 0.90, 1.0),
    Candidate("small", 4_000, 0.95, 1.5),
    Candidate("big", 50_000, 0.97, 3.0),
    Candidate("slow", 10_000, 0.94, 9.0),       # dominated by "small"
]


def test_dominance():
    small, slow = CANDIDATES[1], CANDIDATES[3]
    assert small.dominates(slow) and not slow.dominates(small)
    assert not small.dominates(small)


def test_pareto_front():
    assert [c.name for c in pathway.pareto_front(CANDIDATES)] == ["tiny", "small", "big"]


@pytest.mark.parametrize("rule, expected", [
    (dict(), "big"),
    (dict(max_params=5_000), "small"),
    (dict(min_accuracy=0.93, prefer="smallest"), "small"),
    (dict(prefer="fastest"), "tiny"),
    (dict(max_latency_ms=1.2), "tiny"),
    (dict(min_accuracy=0.96, max_latency_ms=5.0), "big"),
])
def test_choose_model(rule, expected):
    assert pathway.choose_model(CANDIDATES, **rule).name == expected


def test_choice_is_on_the_front():
    for rule in (dict(), dict(max_params=20_000), dict(prefer="smallest"), dict(prefer="fastest")):
        assert pathway.choose_model(CANDIDATES, **rule) in pathway.pareto_front(CANDIDATES)


def test_no_feasible_candidate_says_why():
    with pytest.raises(ValueError, match="no candidate meets the constraints.*tiny: accuracy 0.900 < 0.99"):
        pathway.choose_model(CANDIDATES, min_accuracy=0.99)


@pytest.mark.parametrize("kwargs, message", [
    (dict(prefer="cheapest"), "prefer to be one of"),
    (dict(max_params="5k"), "max_params to be a number"),
])
def test_choose_model_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pathway.choose_model(CANDIDATES, **kwargs)


@pytest.mark.parametrize("args, message", [
    (("", 10, 0.5, 1.0), "non-empty name"),
    (("m", 0, 0.5, 1.0), "params to be an int >= 1"),
    (("m", 10.5, 0.5, 1.0), "params to be an int >= 1"),
    (("m", 10, 1.5, 1.0), "accuracy in \\[0, 1\\]"),
    (("m", 10, 0.5, 0.0), "positive, finite latency"),
    (("m", 10, 0.5, float("nan")), "positive, finite latency"),
])
def test_candidate_validates(args, message):
    with pytest.raises(ValueError, match=message):
        Candidate(*args)


def test_candidate_lists_are_validated():
    with pytest.raises(ValueError, match="at least one candidate"):
        pathway.pareto_front([])
    with pytest.raises(ValueError, match="names must be unique"):
        pathway.pareto_front([CANDIDATES[0], CANDIDATES[0]])
    with pytest.raises(ValueError, match="expected Candidate objects, got tuple"):
        pathway.pareto_front([("tiny", 1, 0.9, 1.0)])


def test_plot_pareto():
    chosen = pathway.choose_model(CANDIDATES, max_params=5_000)
    fig = pathway.plot_pareto(CANDIDATES, chosen=chosen, max_params=5_000, min_accuracy=0.93, show=False)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_xscale() == "log" and fig.axes[1].get_xscale() == "log"


# --- timing -------------------------------------------------------------------------------------

def test_measure_latency_counts_calls_and_is_positive():
    calls = []
    ms = pathway.measure_latency(lambda: calls.append(1), repeats=3, warmup=2)
    assert len(calls) == 5 and ms >= 0.0


@pytest.mark.parametrize("kwargs, message", [
    (dict(fn=42), "expected a function"),
    (dict(fn=lambda: None, repeats=0), "repeats to be an int >= 1"),
    (dict(fn=lambda: None, warmup=-1), "warmup to be an int >= 0"),
])
def test_measure_latency_validates(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pathway.measure_latency(**kwargs)
