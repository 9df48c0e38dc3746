"""Every chapter's checkers: each exercise has a stub and a worked solution of the same name, the
solution passes and the untouched stub reports "not attempted" (the mistakes each checker
recognises are tested chapter by chapter in tests/test_checks_NN.py)."""

import pytest
from nbutils import chapter_exercises as _exercises
from nbutils import chapters, load_tagged

from course_lib.exercises import NOT_ATTEMPTED, PASSED

CHAPTERS = chapters()


CASES = [(chapter, name) for chapter in CHAPTERS for name in sorted(_exercises(chapter))]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_exercise_has_a_stub_and_a_solution(chapter):
    names = set(_exercises(chapter))
    assert names <= set(load_tagged(chapter)), "a solution is missing"
    assert names <= set(load_tagged(chapter, tag="exercise", folder="notebooks")), "a stub is missing"


@pytest.mark.parametrize("chapter, name", CASES, ids=[f"{c[:2]}-{n}" for c, n in CASES])
def test_solution_passes_and_stub_is_not_attempted(chapter, name):
    checker = _exercises(chapter)[name]
    result = checker.evaluate(load_tagged(chapter)[name])
    assert result.status == PASSED, result.message
    stub = load_tagged(chapter, tag="exercise", folder="notebooks")[name]
    assert checker.evaluate(stub).status == NOT_ATTEMPTED


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_checkers_leave_the_global_random_state_alone(chapter):
    """A checker that reseeded NumPy or Python would change what the student's next cell computes."""
    import random

    import numpy as np

    np.random.seed(123)
    random.seed(123)
    numpy_before, python_before = np.random.get_state()[1].copy(), random.getstate()
    solutions = load_tagged(chapter)
    for name, checker in sorted(_exercises(chapter).items()):
        checker.evaluate(solutions[name])
    assert np.array_equal(np.random.get_state()[1], numpy_before), "a checker changed NumPy's global random state"
    assert random.getstate() == python_before, "a checker changed Python's global random state"
