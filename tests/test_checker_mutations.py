"""A generic mutation test of every checker (issue 13).

For each exercise of each chapter, wrong answers are derived mechanically from the worked solution
(``solutions/NN_*.ipynb``, loaded with ``nbutils.load_tagged``) and each must be *rejected* (status
failed):

- ``inputs_mutated``: the right answer, but an input was changed in place (arrays +1 or bools
  flipped, lists appended to, dicts given a key), one input at a time;
- ``float_to_int``, ``bool_to_int``, ``int_to_float``: the output cast to an incompatible dtype;
- ``transposed``, ``row_dropped``, ``axis_added``, ``axis_dropped``: the output transposed or of a
  wrong shape;
- ``perturbed``: the output's floats times (1 + 1e-3);
- ``batch_reversed``, ``batch_rolled``: the output's rows reversed or rolled along axis 0 (as if the
  batch had been shifted or read backwards).

A second test requires that every argument of the exercise matters: for each parameter of the
solution that takes a plain value (a number, a string, a bool), a student who ignores it — always
using the parameter's default, or the value of the checker's first call — must be rejected
("every argument of the exercise changes the expected answer in at least one case", issue 13).

A first run of the checker with the solution records the solution's outputs; a mutation that would
not change any of them (it does not apply to the output's type: a scalar, a string, a Keras model,
a symmetric or constant array...) is skipped, and the skip message says why.
"""

from __future__ import annotations

import copy
import functools
import inspect
from typing import Any, Callable

import numpy as np
import pytest
from nbutils import chapter_exercises, chapters, load_tagged

from course_lib.exercises import FAILED, PASSED

EXERCISES = [(chapter, name) for chapter in chapters() for name in sorted(chapter_exercises(chapter))]


@functools.lru_cache(maxsize=None)
def _solutions(chapter: str) -> dict[str, Any]:
    return load_tagged(chapter)


def _numpy(value: Any) -> Any:
    return value.numpy() if hasattr(value, "numpy") and hasattr(value, "dtype") else value


def _copy(value: Any) -> Any:
    """A copy of an answer's data (arrays, containers); other objects (a Keras model) are kept as they are."""
    value = _numpy(value)
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_copy(v) for v in value))
    if type(value) in (tuple, list):
        return type(value)(_copy(v) for v in value)
    if type(value) is dict:
        return {k: _copy(v) for k, v in value.items()}
    return value


# --- output mutations: a function of one leaf (array or scalar), or of the whole output -------------

def _is_float(x: Any) -> bool:
    return (isinstance(x, np.ndarray) and x.dtype.kind == "f") or isinstance(x, (float, np.floating))


def _is_int(x: Any) -> bool:
    if isinstance(x, (bool, np.bool_)):
        return False
    return (isinstance(x, np.ndarray) and x.dtype.kind in "iu") or isinstance(x, (int, np.integer))


def _is_bool(x: Any) -> bool:
    return (isinstance(x, np.ndarray) and x.dtype == bool) or isinstance(x, (bool, np.bool_))


def _float_to_int(x: Any) -> Any:
    if not _is_float(x) or not np.all(np.isfinite(x)):
        return x
    return np.round(x).astype(int) if isinstance(x, np.ndarray) else int(round(float(x)))


def _bool_to_int(x: Any) -> Any:
    if not _is_bool(x):
        return x
    return x.astype(int) if isinstance(x, np.ndarray) else int(x)


def _int_to_float(x: Any) -> Any:
    if not _is_int(x):
        return x
    return x.astype(float) if isinstance(x, np.ndarray) else float(x)


def _transposed(x: Any) -> Any:
    if isinstance(x, np.ndarray) and x.ndim >= 2 and x.shape[-1] != x.shape[-2]:
        return np.swapaxes(x, -1, -2)
    return x


def _row_dropped(x: Any) -> Any:
    if isinstance(x, np.ndarray) and x.ndim >= 1 and len(x) >= 1:
        return x[:-1]
    return x


def _axis_added(x: Any) -> Any:
    return x[None] if isinstance(x, np.ndarray) and x.ndim >= 1 else x


def _axis_dropped(x: Any) -> Any:
    if isinstance(x, np.ndarray) and x.ndim >= 2:
        return x.reshape(-1, *x.shape[2:])
    return x


def _perturbed(x: Any) -> Any:
    if _is_float(x):
        return x * (1 + 1e-3) if isinstance(x, np.ndarray) else type(x)(x * (1 + 1e-3))
    return x


def _batch_reversed(x: Any) -> Any:
    return x[::-1] if isinstance(x, np.ndarray) and x.ndim >= 1 and len(x) >= 2 else x


def _batch_rolled(x: Any) -> Any:
    return np.roll(x, 1, axis=0) if isinstance(x, np.ndarray) and x.ndim >= 1 and len(x) >= 2 else x


def _map_leaves(value: Any, leaf: Callable[[Any], Any]) -> Any:
    value = _numpy(value)
    if isinstance(value, (np.ndarray, np.generic, bool, int, float)):
        return leaf(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_map_leaves(v, leaf) for v in value))
    if isinstance(value, (tuple, list)):
        return type(value)(_map_leaves(v, leaf) for v in value)
    if isinstance(value, dict):
        return {k: _map_leaves(v, leaf) for k, v in value.items()}
    return value


def _on_leaves(leaf: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda out: _map_leaves(out, leaf)


def _on_list_or_leaves(list_fn: Callable[[list], list], leaf: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A top-level list output (a batch of sequences, of strings...) is changed as a whole."""
    def mutate(out: Any) -> Any:
        if type(out) is list and len(out) >= 1:
            return list_fn(out)
        return _map_leaves(out, leaf)
    return mutate


OUTPUT_MUTATIONS: dict[str, Callable[[Any], Any]] = {
    "float_to_int": _on_leaves(_float_to_int),
    "bool_to_int": _on_leaves(_bool_to_int),
    "int_to_float": _on_leaves(_int_to_float),
    "transposed": _on_leaves(_transposed),
    "row_dropped": _on_list_or_leaves(lambda xs: xs[:-1], _row_dropped),
    "axis_added": _on_leaves(_axis_added),
    "axis_dropped": _on_leaves(_axis_dropped),
    "perturbed": _on_leaves(_perturbed),
    "batch_reversed": _on_list_or_leaves(lambda xs: xs[::-1], _batch_reversed),
    "batch_rolled": _on_list_or_leaves(lambda xs: xs[-1:] + xs[:-1], _batch_rolled),
}


def _identical(a: Any, b: Any) -> bool:
    """Exactly the same answer: same types, dtypes, shapes and values (NaN equal to NaN)."""
    a, b = _numpy(a), _numpy(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_identical(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_identical(a[k], b[k]) for k in a)
    if isinstance(a, (float, np.floating)) and a != a:
        return b != b
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:
        return False


# --- the input mutation --------------------------------------------------------------------------

def _mutate_in_place(value: Any) -> bool:
    """Change ``value`` in place like a careless student would; whether anything was changed."""
    if isinstance(value, np.ndarray):
        if value.size == 0 or not value.flags.writeable:
            return False
        if value.dtype == bool:
            np.logical_not(value, out=value)
            return True
        if value.dtype.kind in "iufc":
            value += 1
            return True
        return False
    if type(value) is list:
        value.append(copy.deepcopy(value[-1]) if value else 0)
        return True
    if type(value) is dict:
        value["__added_by_the_student__"] = 0
        return True
    return False


def _input_mutated(solution: Callable[..., Any], which: int | str, log: list[bool]) -> Callable[..., Any]:
    """The right answer, but the input ``which`` (a position or a keyword) is then changed in place."""
    @functools.wraps(solution)
    def student(*args: Any, **kwargs: Any) -> Any:
        answer = _copy(solution(*args, **kwargs))
        if isinstance(which, int):
            target = args[which] if which < len(args) else None
        else:
            target = kwargs.get(which)
        log.append(_mutate_in_place(target) if target is not None else False)
        return answer
    return student


def _input_label(solution: Callable[..., Any], which: int | str) -> str:
    if isinstance(which, str):
        return f"`{which}`"
    try:
        names = [p.name for p in inspect.signature(solution).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return f"`{names[which]}`" if which < len(names) else f"argument {which + 1}"


# --- running the checkers ------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _probe(chapter: str, name: str) -> tuple[list[Any], list[int | str]]:
    """The solution's outputs on every call the checker makes, and the inputs (positions, keywords)
    that are arrays, lists or dicts a student could change in place."""
    solution = _solutions(chapter)[name]
    outputs: list[Any] = []
    inputs: set[int | str] = set()

    @functools.wraps(solution)
    def recording(*args: Any, **kwargs: Any) -> Any:
        for which, value in [*enumerate(args), *kwargs.items()]:
            if _mutate_in_place(_copy(value)):       # could be changed in place (tried on a copy)
                inputs.add(which)
        out = solution(*args, **kwargs)
        outputs.append(_copy(_numpy(out)))
        return out

    result = chapter_exercises(chapter)[name].evaluate(recording)
    assert result.status == PASSED, f"the worked solution fails its checker: {result.message}"
    return outputs, sorted(inputs, key=str)


CASES = [(c, n, m) for c, n in EXERCISES for m in ["inputs_mutated", *OUTPUT_MUTATIONS]]


@pytest.mark.parametrize("chapter, name, mutation", CASES, ids=[f"{c[:2]}-{n}-{m}" for c, n, m in CASES])
def test_mechanical_wrong_answers_are_rejected(chapter, name, mutation):
    checker = chapter_exercises(chapter)[name]
    solution = _solutions(chapter)[name]
    if isinstance(solution, type):
        pytest.skip(f"not applicable: the answer is a class ({', '.join(b.__name__ for b in solution.__mro__[1:3])}), "
                    "not a function whose output or inputs could be changed")
    outputs, inputs = _probe(chapter, name)
    if not outputs:
        pytest.skip("the checker never calls the function with arguments whose output it compares")
    if mutation == "inputs_mutated":   # one mutant per input: each must be caught on its own
        if not inputs:
            pytest.skip("not applicable: no input is a non-empty array, list or dict that could be changed in place")
        accepted = []
        for which in inputs:
            log: list[bool] = []
            result = checker.evaluate(_input_mutated(solution, which, log))
            if any(log) and result.status != FAILED:
                accepted.append(f"{_input_label(solution, which)} ({result.message})")
        assert not accepted, "a student who changes these inputs in place passes: " + "; ".join(accepted)
        return
    else:
        mutate = OUTPUT_MUTATIONS[mutation]
        if all(_identical(out, mutate(out)) for out in outputs):
            kinds = sorted({type(_numpy(out)).__name__ for out in outputs})
            pytest.skip(f"not applicable: changes none of the solution's outputs (of type {', '.join(kinds)})")

        @functools.wraps(solution)
        def student(*args: Any, **kwargs: Any) -> Any:
            return mutate(_numpy(solution(*args, **kwargs)))

        result = checker.evaluate(student)
    assert result.status == FAILED, f"the mutant '{mutation}' was accepted: {result.message}"


def test_the_mutations_change_what_they_claim():
    """Negative controls: each output mutation changes a fitting answer and leaves an unfitting one."""
    x = np.arange(6.0).reshape(2, 3) + 0.25
    for name, mutate in OUTPUT_MUTATIONS.items():
        fitting = {"bool_to_int": x > 2, "int_to_float": np.arange(6).reshape(2, 3)}.get(name, x)
        assert not _identical(fitting, mutate(fitting)), name
        assert _identical("text", mutate("text")), name
    assert _identical((x, 3), OUTPUT_MUTATIONS["perturbed"]((x, 3))) is False
    data = [np.zeros(2), [1, 2], {"a": 1}]
    assert all(_mutate_in_place(v) for v in data)
    assert data[0].tolist() == [1.0, 1.0] and data[1] == [1, 2, 2] and "__added_by_the_student__" in data[2]
    assert not _mutate_in_place(3) and not _mutate_in_place(np.zeros(0))


# --- every argument matters ------------------------------------------------------------------------

def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str, np.generic))


def _equal_plain(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b) or (a is None and b is None)
    except Exception:
        return False


def _argument_ignored(solution: Callable[..., Any], param: str, use: str, log: list[bool]) -> Callable[..., Any]:
    """The solution, but ``param`` replaced by its default (``use="default"``) or by the value of the
    first call (``use="first"``) whenever it is a plain value; ``log`` records whether a call changed."""
    signature = inspect.signature(solution)
    first: list[Any] = []

    @functools.wraps(solution)
    def student(*args: Any, **kwargs: Any) -> Any:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError:
            return solution(*args, **kwargs)
        bound.apply_defaults()
        value = bound.arguments[param]
        if use == "default":
            new = signature.parameters[param].default
        else:
            if not first:
                first.append(value)
            new = first[0]
        if _plain(value) and _plain(new) and not _equal_plain(value, new):
            bound.arguments[param] = new
            log.append(True)
        return solution(*bound.args, **bound.kwargs)

    return student


@pytest.mark.parametrize("chapter, name", EXERCISES, ids=[f"{c[:2]}-{n}" for c, n in EXERCISES])
def test_every_argument_changes_the_expected_answer(chapter, name):
    checker = chapter_exercises(chapter)[name]
    solution = _solutions(chapter)[name]
    if isinstance(solution, type):
        pytest.skip("not applicable: the answer is a class")
    try:
        params = [p for p in inspect.signature(solution).parameters.values()
                  if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY, p.POSITIONAL_ONLY)]
    except (TypeError, ValueError):
        pytest.skip("not applicable: the solution has no inspectable signature")
    if not params:
        pytest.skip("not applicable: the function takes no arguments")
    slips, tried = [], 0
    for p in params:
        for use in ("default", "first"):
            if use == "default" and p.default is inspect.Parameter.empty:
                continue
            log: list[bool] = []
            result = checker.evaluate(_argument_ignored(solution, p.name, use, log))
            if not log:   # no call was changed: the checker never varies this argument
                if use == "first" and p.name in _plain_arguments(chapter, name):
                    slips.append(f"`{p.name}`: the checker never passes two different values")
                    tried += 1
                continue
            tried += 1
            if result.status != FAILED:
                what = "its default" if use == "default" else "the value of the checker's first call"
                slips.append(f"`{p.name}`: a student who always uses {what} passes")
    if not tried:
        pytest.skip("not applicable: no argument takes a plain value (number, string, bool)")
    assert not slips, "; ".join(slips)


@functools.lru_cache(maxsize=None)
def _plain_arguments(chapter: str, name: str) -> frozenset[str]:
    """The parameters to which the checker passes plain values (numbers, strings, bools) only."""
    solution = _solutions(chapter)[name]
    signature = inspect.signature(solution)
    plain: dict[str, bool] = {}

    @functools.wraps(solution)
    def recording(*args: Any, **kwargs: Any) -> Any:
        try:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            for key, value in bound.arguments.items():
                plain[key] = plain.get(key, True) and _plain(value)
        except TypeError:
            pass
        return solution(*args, **kwargs)

    chapter_exercises(chapter)[name].evaluate(recording)
    return frozenset(k for k, v in plain.items() if v)

