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


# --- issue 13: the inputs are copied for each call, and a student who changes one is caught ---------

def _reference_sum(values, extra=0):
    return float(np.sum(values)) + extra


@pytest.mark.parametrize("mutate, value", [
    (lambda v: v.__iadd__(1), np.arange(3.0)),                       # an array, in place
    (lambda v: v.__setitem__(0, True), np.array([False, True])),     # a bool array flipped
    (lambda v: v.append(0), [1.0, 2.0]),                              # a list extended
    (lambda v: v.__setitem__("new", 1.0), {"a": 1.0}),               # a dict given a key
    (lambda v: v[1].__iadd__(1), [np.zeros(2), np.zeros(3)]),         # nested: an array inside a list
    (lambda v: v["w"].append(np.ones(1)), {"w": [np.zeros(1)]}),      # nested: a list inside a dict
])
def test_an_input_changed_in_place_is_named(mutate, value):
    def reference(values, extra=0):
        return 7.0

    def student(values, extra=0):
        answer = reference(values, extra)
        mutate(values)
        return answer

    with pytest.raises(Wrong) as err:
        compare_with_reference(student, reference, [Case((value,))], name="f")
    assert "changed its argument `values` (argument 1) in place" in str(err.value)


def test_a_keyword_input_changed_in_place_is_named():
    def student(values, extra=0):
        values.append(1)
        return _reference_sum(values[:-1], extra)

    with pytest.raises(Wrong, match="changed its argument `values`"):
        compare_with_reference(student, _reference_sum, [Case(kwargs={"values": [1.0, 2.0], "extra": 1})])


def test_arguments_are_named_by_position_when_the_reference_has_no_names():
    def student(a, b):
        b[0] = 9
        return 0.0

    with pytest.raises(Wrong, match="changed its argument argument 2 in place"):
        compare_with_reference(student, lambda *args: 0.0, [Case((np.zeros(2), np.zeros(2)))])


def test_a_mutating_student_cannot_shift_the_expected_answer_whatever_the_order():
    """The reference and the student each get their own copy: the expected answer is computed on the
    case as written, and mutation is reported even when the returned value happens to be right."""
    data = [3, 1, 2]

    def sort_in_place(xs):
        xs.sort()
        return list(xs)

    with pytest.raises(Wrong, match="changed its argument `xs`"):
        compare_with_reference(sort_in_place, lambda xs: sorted(xs), [Case((data,))])
    assert data == [3, 1, 2]  # the case itself is never handed to anybody

    def reference_that_mutates(xs):
        xs.append(100)
        return len(xs)

    assert compare_with_reference(lambda xs: len(xs) + 1, reference_that_mutates, [Case((data,))]) == "correct on 1 cases"
    assert data == [3, 1, 2]


def test_may_modify_allows_a_documented_in_place_update():
    def update(w, g):
        w -= g
        return w

    with pytest.raises(Wrong, match="`w`"):
        compare_with_reference(update, lambda w, g: w - g, [Case((np.ones(2), np.ones(2)))])

    def named_reference(w, g):
        return w - g

    assert compare_with_reference(update, named_reference, [Case((np.ones(2), np.ones(2)))],
                                  may_modify=("w",)) == "correct on 1 cases"


def test_inputs_that_cannot_be_copied_do_not_crash_the_checker():
    import threading

    lock = threading.Lock()                      # deepcopy raises TypeError on a lock
    gen = (i for i in range(3))                  # nor can a generator be copied
    assert compare_with_reference(lambda a, b, x: x * 2, lambda a, b, x: x * 2,
                                  [Case((lock, gen, 3))]) == "correct on 1 cases"


class _FakeLayer:
    """Stands for a Keras layer: compared by its weights, never deep-copied."""

    def __init__(self):
        self.w = [np.zeros(2)]
        self.copied = False

    def get_weights(self):
        return [np.array(w) for w in self.w]

    def __deepcopy__(self, memo):
        self.copied = True
        raise AssertionError("a Keras object must not be deep-copied")


def test_keras_like_objects_are_shared_and_compared_by_weights():
    layer = _FakeLayer()
    assert compare_with_reference(lambda lay: 1, lambda lay: 1, [Case((layer,))]) == "correct on 1 cases"
    assert not layer.copied

    def trains(lay):
        lay.w[0] += 1
        return 1

    with pytest.raises(Wrong, match="changed its argument `lay`"):
        compare_with_reference(trains, lambda lay: 1, [Case((_FakeLayer(),))])


def test_tensorflow_variables_are_compared_by_value():
    tf = pytest.importorskip("tensorflow")

    def reference(v):
        return float(tf.reduce_sum(v))

    def student(v):
        v.assign_add(tf.ones_like(v))
        return reference(v) - 2.0

    variable = tf.Variable([1.0, 2.0])
    with pytest.raises(Wrong, match="changed its argument `v`"):
        compare_with_reference(student, reference, [Case((variable,))])
    assert variable.numpy().tolist() == [1.0, 2.0]
    assert compare_with_reference(lambda v: float(tf.reduce_sum(v)), reference,
                                  [Case((tf.constant([1.0, 2.0]),))]) == "correct on 1 cases"


def test_call_student_copies_and_checks():
    out = exercises.call_student(lambda x: x * 2, (np.ones(2),), name="double")
    assert out.tolist() == [2.0, 2.0]

    def bad(x):
        x[0] = 5
        return x

    original = np.ones(2)
    with pytest.raises(Wrong, match=r"double\(array of shape \(2,\) \(float64\)\): your function changed its argument `x`"):
        exercises.call_student(bad, (original,), name="double")
    assert original.tolist() == [1.0, 1.0]
    with pytest.raises(ZeroDivisionError):
        exercises.call_student(lambda x: 1 / 0, (1,))


# --- issue 13: dtypes under a stated contract ------------------------------------------------------

def test_a_boolean_mask_is_met_only_by_a_boolean_answer():
    reference = lambda n: np.tril(np.ones((n, n), bool))  # noqa: E731
    for wrong in (lambda n: np.tril(np.ones((n, n), int)), lambda n: np.tril(np.ones((n, n)))):
        with pytest.raises(Wrong) as err:
            compare_with_reference(wrong, reference, [Case((3,))], name="mask")
        assert "the mask must have dtype bool: ~mask on an int array flips every bit" in str(err.value)
    assert compare_with_reference(lambda n: np.tri(n, dtype=bool), reference, [Case((3,))]) == "correct on 1 cases"
    assert compare_with_reference(lambda n: np.tri(n, dtype=bool).tolist(), reference, [Case((3,))])
    assert not same(True, 1) and not same(np.array([True]), np.array([1]))
    assert same(True, np.bool_(True)) and same(True, np.array(True))
    with pytest.raises(Wrong, match="expected the bool True"):
        compare_with_reference(lambda: 1, lambda: True, [Case()])


def test_an_integer_array_is_met_only_by_integers():
    with pytest.raises(Wrong, match="must be integers"):
        compare_with_reference(lambda: np.array([1.0, 2.0]), lambda: np.array([1, 2]), [Case()])
    with pytest.raises(Wrong, match="must be integers"):
        compare_with_reference(lambda: np.array([True, False]), lambda: np.array([1, 0]), [Case()])
    assert same(np.array([1, 2]), np.array([1, 2], dtype=np.int32)) and same(np.array([1, 2]), [1, 2])
    assert same(np.array([1.0, 2.0]), np.array([1, 2]))  # floats may be given as whole numbers
    assert same(3, np.array(3)) and not same(3, np.array(3.0))


def test_a_string_is_no_number():
    assert not same(1.5, "1.5") and not same(np.array([1.0]), ["1.0"])


# --- issue 13/14: messages that say what happened --------------------------------------------------

def test_another_exception_than_expected_is_reported_as_raised():
    def reference(x):
        raise ValueError("bad x")

    def student(x):
        raise TypeError("boom")

    with pytest.raises(Wrong) as err:
        compare_with_reference(student, reference, [Case((1,))], name="f")
    assert "expected it to raise ValueError, but it raised TypeError: boom" in str(err.value)
    assert "returned" not in str(err.value)


def test_comparing_a_string_answer_with_an_array_blames_nobody():
    """The checker's own comparison never raises: a wrong type is described, not reported as an error."""
    assert same("abc", np.array([1, 2])) is False
    assert same({"a": np.ones(2)}, {"a": np.ones(2)}) and not same({"a": np.ones(2)}, {"a": np.zeros(2)})
    for expected, got in (("abc", np.array([1, 2])), (np.ones(2), "ab"), ({"a": np.ones(2)}, np.ones(2)),
                          ({"a": np.ones(2)}, {"b": np.ones(2)})):
        ex = ExerciseSet("99_test")

        @ex.exercise(1, "types")
        def check(student, expected=expected):
            return compare_with_reference(student, lambda: expected, [Case()], name="f")

        result = check.evaluate(lambda: got)
        assert result.status == FAILED and "raised" not in result.message, result.message


def test_a_checker_bug_is_not_blamed_on_the_student():
    ex = ExerciseSet("99_test")

    @ex.exercise(1, "own bug")
    def own_bug(student):
        np.asarray(student(), dtype=float)   # the checker converts a string: ValueError in the checker
        return "ok"

    result = own_bug.evaluate(lambda: "abc")
    assert result.status == FAILED and result.message.startswith("the checker could not handle your answer")

    def buggy_student():
        return int("x")

    result = own_bug.evaluate(buggy_student)
    assert result.message.startswith("your code raised ValueError")


# --- issue 14: arguments are validated -------------------------------------------------------------

def test_set_strict_takes_only_booleans(monkeypatch):
    monkeypatch.delenv("COURSE_STRICT", raising=False)
    for bad in ("False", "True", 0, 1, []):
        with pytest.raises(TypeError, match="flag must be True or False"):
            exercises.set_strict(bad)
    try:
        exercises.set_strict(np.bool_(True))
        assert exercises.is_strict()
        exercises.set_strict(None)       # back to the environment
        assert not exercises.is_strict()
    finally:
        exercises.set_strict(False)


def test_compare_with_reference_validates_its_arguments():
    ref = lambda x: x  # noqa: E731
    with pytest.raises(ValueError, match="cases is empty"):
        compare_with_reference(ref, ref, [])
    with pytest.raises(TypeError, match="every case must be a Case"):
        compare_with_reference(ref, ref, [(1,)])
    with pytest.raises(TypeError, match="every mistake must be a Mistake"):
        compare_with_reference(ref, ref, [Case((1,))], [lambda x: x])
    with pytest.raises(TypeError, match="reference must be a function"):
        compare_with_reference(ref, 3, [Case((1,))])
    for tol in (float("inf"), float("nan"), -1.0):
        with pytest.raises(ValueError, match="rtol must be finite and >= 0"):
            compare_with_reference(ref, ref, [Case((1,))], rtol=tol)
        with pytest.raises(ValueError, match="atol must be finite"):
            same(1.0, 2.0, atol=tol)
    with pytest.raises(ValueError, match="rtol"):
        same(1.0, 1e9, rtol=float("inf"))
    with pytest.raises(TypeError, match="rtol must be a number"):
        same(1.0, 1.0, rtol="0.1")


def test_module_declares_its_public_api():
    assert set(exercises.__all__) <= set(dir(exercises))
    for name in ("compare_with_reference", "Case", "Mistake", "Wrong", "results", "set_strict", "same"):
        assert name in exercises.__all__


# --- a machine-readable record of each exercise's latest status -----------------------------------

def test_results_record_the_latest_status(capsys):
    ex, double = _set()
    rows = exercises.results("99_test")
    assert rows == [{"chapter": "99_test", "number": 1, "title": "double", "label": "Exercise 1 · double",
                     "status": exercises.NOT_CHECKED, "passed": False, "message": ""}]
    exercises.set_strict(False)
    double(lambda x: 4 * x)
    assert double.last.status == FAILED and double.last.as_dict()["passed"] is False
    assert exercises.results("99_test")[0]["status"] == FAILED
    double(lambda x: 2 * x)
    row = ex.results()[0]
    assert row["status"] == PASSED and row["passed"] and row["message"] == "correct on 2 cases"
    assert row in exercises.results()
    assert "✓ Exercise 1 · double: correct on 2 cases" in capsys.readouterr().out  # the printed line is unchanged
    with pytest.raises(ValueError, match="no exercises declared"):
        exercises.results("no_such_chapter")


def test_case_arguments_are_fresh_copies_at_every_access():
    """Checkers that call the student directly with case.args (a pre-check, a post-check) cannot let
    a mutating student change what the reference sees next."""
    case = Case(([1, 2], np.zeros(2)), {"d": {"k": 1}})
    args = case.args
    args[0].append(3)
    args[1][:] += 1
    case.kwargs["d"]["new"] = 2
    assert case.args[0] == [1, 2] and case.args[1].tolist() == [0.0, 0.0] and case.kwargs == {"d": {"k": 1}}
    assert repr(Case((1,), {"b": 2})) == "Case(1, b=2)" and repr(Case()) == "Case(())"
    with pytest.raises(TypeError, match=r"write Case\(\(x,\)\)"):
        Case(5)
    with pytest.raises(TypeError, match="kwargs must be a dict"):
        Case((), {1: 2})


def test_exercise_declarations_are_validated():
    ex = ExerciseSet("99_test")
    for number in (0, -1, True, 1.0, "1"):
        with pytest.raises(ValueError, match="an int >= 1"):
            ex.exercise(number, "t")
    with pytest.raises(ValueError, match="non-empty title"):
        ex.exercise(1, " ")
    with pytest.raises(TypeError, match="decorate a function"):
        ex.exercise(1, "t")(42)
    with pytest.raises(TypeError, match="non-empty str"):
        ExerciseSet("")


def test_an_answer_buffer_reused_across_calls_does_not_confuse_the_hints():
    """A student who fills and returns one module-level buffer: the recorded answers stay as returned."""
    buffer = np.zeros(2)

    def student(x):
        buffer[:] = 3 * x
        return buffer

    with pytest.raises(Wrong, match="triple"):
        compare_with_reference(student, lambda x: 2 * x, [Case((np.ones(2),)), Case((np.full(2, 2.0),))],
                               [Mistake(lambda x: 3 * x, "triple")])


def test_a_student_who_calls_a_course_lib_helper_wrongly_is_told_so():
    """The error is raised inside course_lib, but through the student's code: it is the student's."""
    ex = ExerciseSet("99_test")

    @ex.exercise(1, "direct")
    def direct(student):
        student()
        return "ok"

    def student():
        return exercises.set_strict("yes")          # raises TypeError inside course_lib

    assert direct.evaluate(student).message.startswith("your code raised TypeError: set_strict(flag)")
