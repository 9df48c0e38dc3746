"""The checker framework: statuses, hints, strict mode and the summary."""

import numpy as np
import pytest

from course_lib import exercises
from course_lib.exercises import (FAILED, NOT_ATTEMPTED, PASSED, Case, ExerciseError, ExerciseSet, Mistake,
                                  Wrong, compare_with_reference, same)


def _set():
    ex = ExerciseSet("99_test")

    @ex.exercise(1, "double")
    def double(student):
        return compare_with_reference(
            student, lambda x: 2 * x, [Case((1,)), Case((np.arange(3.0),))],
            [Mistake(lambda x: x + x + 1, "off by one")], name="double",
        )

    return ex, double


def test_statuses():
    _, double = _set()
    assert double.evaluate(lambda x: 2 * x).status == PASSED
    assert double.evaluate(None).status == NOT_ATTEMPTED

    def stub(x):
        raise NotImplementedError

    assert double.evaluate(stub).status == NOT_ATTEMPTED
    result = double.evaluate(lambda x: x + x + 1)
    assert result.status == FAILED and result.message == "double(1): off by one"
    result = double.evaluate(lambda x: 4 * x)
    assert result.message == "double(1): expected 2, got 4"
    result = double.evaluate(lambda x: 1 / 0)
    assert "expected 2, but it raised ZeroDivisionError" in result.message
    assert double.evaluate(42).message == "expected a function, got 42"


def test_call_prints_and_summary(capsys):
    ex, double = _set()
    exercises.set_strict(False)
    double(lambda x: 2 * x)
    ex.summary()
    out = capsys.readouterr().out
    assert "✓ Exercise 1 · double: correct on 2 cases" in out
    assert "99_test: 1 of 1 exercises correct" in out


def test_strict_mode_raises(monkeypatch):
    _, double = _set()
    exercises.set_strict(True)
    try:
        with pytest.raises(ExerciseError, match="not attempted"):
            double(None)
        double(lambda x: 2 * x)  # a correct answer never raises
    finally:
        exercises.set_strict(False)
    exercises._strict = None
    monkeypatch.setenv("COURSE_STRICT", "1")
    assert exercises.is_strict()
    monkeypatch.setenv("COURSE_STRICT", "0")
    assert not exercises.is_strict()


def test_duplicate_exercise_number():
    ex, _ = _set()
    with pytest.raises(ValueError, match="exercise 1 is declared twice"):
        ex.exercise(1, "again")(lambda s: None)


def test_custom_body_wrong():
    ex = ExerciseSet("99_test")

    @ex.exercise(2, "custom")
    def custom(student):
        raise Wrong("a specific hint")

    assert custom.evaluate(lambda: 0).message == "a specific hint"


@pytest.mark.parametrize(
    "expected, got, ok",
    [(3, 3, True), (3, 3.0, False), (3, np.int64(3), True), (True, 1, False), (1.0, 1.0 + 1e-9, True),
     (np.ones(3), np.ones(3), True), (np.ones(3), np.ones((3, 1)), False), ((1, 2.0), (1, 2.0), True),
     ("a", "a", True), (np.ones(2), "x", False), (np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), True),
     (np.array([np.nan]), np.array([1.0]), False)],
)
def test_same(expected, got, ok):
    assert same(expected, got) is ok


def test_expected_exception_cases():
    def reference(x):
        if x < 0:
            raise ValueError
        return x

    with pytest.raises(Wrong, match="expected it to raise ValueError, but it returned -1"):
        compare_with_reference(lambda x: x, reference, [Case((1,)), Case((-1,))], name="f")
    with pytest.raises(Wrong, match="expected shape"):
        compare_with_reference(lambda x: np.ones(2), lambda x: np.ones(3), [Case((0,))])


@pytest.mark.parametrize("got, says", [
    ((np.zeros((2, 3)), 5), "item [0]: expected shape (3,), got shape (2, 3)"),
    ((np.ones(3), 6), "item [1]: expected 5, got 6"),
    (((np.ones(3), 7),), "expected 2 items, got 1"),
    (np.ones(3), "expected a tuple of 2 items"),
    ((np.ones(3), [1, 2]), "item [1]: expected 5, got [1, 2]"),
])
def test_mismatch_walks_into_tuples_of_ragged_arrays(got, says):
    """An unrecognised wrong answer that returns arrays of different shapes is described, never
    reported as an error raised by the student's code."""
    def reference(x):
        return np.ones(3), 5

    with pytest.raises(Wrong) as err:
        compare_with_reference(lambda x: got, reference, [Case((0,))], name="f")
    assert says in str(err.value)
    assert "raised" not in str(err.value)


def test_mismatch_of_uncomparable_values():
    with pytest.raises(Wrong, match="not comparable as numbers"):
        compare_with_reference(lambda x: np.array(["a", "b"]), lambda x: np.ones(2), [Case((0,))], name="f")


def test_mismatch_names_misplaced_infinities_without_nan_warnings():
    """A mask of -inf in the wrong places is named, not reported as 'max |difference| nan'."""
    expected = np.array([0.0, -np.inf, 1.0, -np.inf])
    got = np.array([0.0, 1.0, -np.inf, -np.inf])
    with np.errstate(all="raise"), pytest.raises(Wrong) as err:
        compare_with_reference(lambda x: got, lambda x: expected, [Case((0,))], name="f")
    assert "expected inf at index (1,)" in str(err.value) and "2 places differ" in str(err.value)
    with pytest.raises(Wrong, match="did not expect NaN at index"):
        compare_with_reference(lambda x: np.array([np.nan, 0.0]), lambda x: np.zeros(2), [Case((0,))])


def test_describe_summarises_lists_of_arrays():
    text = exercises.describe([np.zeros((2, 3)), np.ones(4), 5])
    assert text == "a list of 3 items (array of shape (2, 3) (float64), array of shape (4,) (float64), 5)"
    assert exercises.describe((1, 2)) == "(1, 2)"
