"""The checker framework behind every chapter's exercises.

A chapter's checkers live in ``course_lib/checks_NN.py``. Each is an :class:`Exercise`: calling it
with the student's function runs that function on fresh inputs, compares it with a reference and
prints one line:

- ``✓ Exercise 1 · ...: correct on 6 cases``
- ``✗ Exercise 1 · ...: <a specific hint>`` (the typical mistakes are recognised by name)
- ``○ Exercise 1 · ...: not attempted yet ...`` when the stub still raises ``NotImplementedError``

so Run All never stops at an exercise. In strict mode (``set_strict(True)`` or the environment
variable ``COURSE_STRICT=1``), anything but ✓ raises :class:`ExerciseError`: for grading, and for
the worked solutions in ``solutions/``.

:func:`compare_with_reference` calls the reference and the student on *separate deep copies* of
each case's inputs (so the order of the calls never matters and a student who edits an input in
place cannot shift the expected answer), then fails with a hint naming the argument if the
student's copy was changed. A boolean expectation (a mask) is met only by a boolean answer, an
integer array only by an integer array.

Messages are written in English; what is *shown* (a result's line, the summary, the error of strict
mode) goes through :func:`course_lib.messages.translate`, so a student who chose Chinese
(``setup_notebook(lang="zh")`` or ``COURSE_LANG=zh``) reads it in Chinese. ``Result.message`` and
:func:`results` stay in English for graders.

The latest status of every exercise is kept for graders: ``Exercise.last`` (a :class:`Result`) and
:func:`results`, a list of plain dicts.
"""

from __future__ import annotations

import copy
import inspect
import math
import os
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from course_lib.messages import labelled, translate

__all__ = [
    "FAILED", "NOT_ATTEMPTED", "NOT_CHECKED", "PASSED", "Case", "Exercise", "ExerciseError", "ExerciseSet",
    "Mistake", "NotAttempted", "Result", "Wrong", "call_student", "compare_with_reference", "describe",
    "is_strict", "results", "same", "set_strict",
]

PASSED, FAILED, NOT_ATTEMPTED = "passed", "failed", "not attempted"
NOT_CHECKED = "not checked yet"
_SYMBOL = {PASSED: "✓", FAILED: "✗", NOT_ATTEMPTED: "○"}
_strict: bool | None = None
_SETS: dict[str, "ExerciseSet"] = {}   # every chapter's ExerciseSet, by chapter name (for results())


class NotAttempted(Exception):
    """The student's code still raises ``NotImplementedError`` (or is ``None``)."""


class Wrong(Exception):
    """The answer is wrong; the message is the hint shown to the student."""


class ExerciseError(AssertionError):
    """Raised in strict mode when an exercise is not passed."""


def set_strict(flag: bool | None = True) -> None:
    """Make every checker raise :class:`ExerciseError` unless the answer is correct.

    ``flag`` must be a bool (``set_strict("False")`` would otherwise turn strict mode *on*);
    ``None`` goes back to the environment variable ``COURSE_STRICT``.
    """
    global _strict
    if flag is not None and not isinstance(flag, (bool, np.bool_)):
        raise TypeError(f"set_strict(flag): flag must be True or False (or None for COURSE_STRICT), "
                        f"got {flag!r} of type {type(flag).__name__}")
    _strict = None if flag is None else bool(flag)


def is_strict() -> bool:
    """Whether checkers raise (``set_strict`` wins over ``COURSE_STRICT=1``)."""
    if _strict is not None:
        return _strict
    return os.environ.get("COURSE_STRICT", "") not in ("", "0", "false", "False")


@dataclass(frozen=True)
class Result:
    """The outcome of checking one exercise."""

    label: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def __str__(self) -> str:
        """The status line shown to the student, in the language of :func:`course_lib.messages.get_language`."""
        return f"{_SYMBOL[self.status]} {labelled(self.label, self.message)}"

    def as_dict(self) -> dict[str, Any]:
        """The result as plain data (for graders)."""
        return {"label": self.label, "status": self.status, "passed": self.passed, "message": self.message}


class Exercise:
    """One exercise: ``body(student)`` returns a success detail or raises Wrong/NotAttempted."""

    def __init__(self, chapter: str, number: int, title: str, body: Callable[[Any], str | None]):
        self.chapter, self.number, self.title, self.body = chapter, number, title, body
        self.label = f"Exercise {number} · {title}"
        self.last: Result | None = None
        self.__doc__ = body.__doc__

    def evaluate(self, student: Any) -> Result:
        """Check ``student`` and return the :class:`Result`, printing nothing."""
        try:
            if student is None:
                raise NotAttempted
            detail = self.body(student)
        except (NotAttempted, NotImplementedError):
            return Result(
                self.label, NOT_ATTEMPTED,
                "not attempted yet: replace `raise NotImplementedError` with your code, then run this cell again",
            )
        except Wrong as wrong:
            return Result(self.label, FAILED, str(wrong))
        except Exception as err:  # reported, never fatal
            if _raised_outside_the_checker(err, self.body):    # a bug in the student's code
                return Result(self.label, FAILED, f"your code raised {type(err).__name__}: {err}")
            return Result(
                self.label, FAILED,
                f"the checker could not handle your answer ({type(err).__name__}: {err}); check that it has "
                "the type and shape the exercise asks for (this may also be a bug in the checker: please report it)",
            )
        return Result(self.label, PASSED, detail or "correct")

    def __call__(self, student: Any) -> None:
        """Check ``student``, print the one-line result and remember it for the summary."""
        self.last = result = self.evaluate(student)
        print(result)
        if is_strict() and not result.passed:
            raise ExerciseError(str(result))

    def as_dict(self) -> dict[str, Any]:
        """This exercise and its latest status, as plain data (``status`` is NOT_CHECKED before a check)."""
        last = self.last
        return {
            "chapter": self.chapter, "number": self.number, "title": self.title, "label": self.label,
            "status": last.status if last is not None else NOT_CHECKED,
            "passed": bool(last is not None and last.passed),
            "message": last.message if last is not None else "",
        }

    def __repr__(self) -> str:
        return f"<{self.label} ({self.chapter})>"


_COURSE_LIB = str(Path(__file__).resolve().parent)
_LIBRARY_DIRS = tuple({str(Path(p).resolve()) for key in ("stdlib", "platstdlib", "purelib", "platlib")
                       if (p := sysconfig.get_paths().get(key))})


def _raised_outside_the_checker(err: BaseException, body: Callable[..., Any] | None = None) -> bool:
    """Whether ``err`` went through the student's code: a frame of its traceback that is neither
    course_lib, nor the checker's body, nor an installed library or the standard library (a notebook
    cell, a test's function). A student's function that calls a course_lib helper wrongly counts."""
    body_code = getattr(body, "__code__", None)
    tb = err.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        tb = tb.tb_next
        if code is body_code or code.co_filename.startswith("<frozen"):
            continue
        if code.co_filename.startswith("<"):
            return True
        resolved = str(Path(code.co_filename).resolve())
        if resolved.startswith(_COURSE_LIB):
            continue
        if resolved.startswith(_LIBRARY_DIRS) or "site-packages" in resolved or "dist-packages" in resolved:
            continue
        return True
    return False


class ExerciseSet:
    """The exercises of one chapter, with a decorator to declare them and a summary."""

    def __init__(self, chapter: str):
        if not isinstance(chapter, str) or not chapter:
            raise TypeError(f"ExerciseSet(chapter): chapter must be a non-empty str, got {chapter!r}")
        self.chapter = chapter
        self.exercises: list[Exercise] = []
        _SETS[chapter] = self

    def exercise(self, number: int, title: str) -> Callable[[Callable[[Any], str | None]], Exercise]:
        """Decorator turning a checking function into an :class:`Exercise`."""
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ValueError(f"{self.chapter}: an exercise number is an int >= 1, got {number!r}")
        if not isinstance(title, str) or not title.strip():
            raise ValueError(f"{self.chapter}: exercise {number} needs a non-empty title, got {title!r}")

        def wrap(body: Callable[[Any], str | None]) -> Exercise:
            if not callable(body):
                raise TypeError(f"{self.chapter}: exercise {number}: decorate a function, got {describe(body)}")
            if any(e.number == number for e in self.exercises):
                raise ValueError(f"{self.chapter}: exercise {number} is declared twice")
            ex = Exercise(self.chapter, number, title, body)
            self.exercises.append(ex)
            return ex

        return wrap

    def results(self) -> list[dict[str, Any]]:
        """Each exercise of the chapter with its latest status, as plain dicts (by number)."""
        return [e.as_dict() for e in sorted(self.exercises, key=lambda e: e.number)]

    def summary(self) -> None:
        """Print each exercise of the chapter with its latest status in this session."""
        done = sum(1 for e in self.exercises if e.last is not None and e.last.passed)
        print(translate(f"{self.chapter}: {done} of {len(self.exercises)} exercises correct"))
        for e in sorted(self.exercises, key=lambda e: e.number):
            status = e.last.status if e.last is not None else "not checked yet"
            print(f"  {_SYMBOL.get(status, '·')} {labelled(e.label, status)}")


def results(chapter: str | None = None) -> list[dict[str, Any]]:
    """The latest status of every declared exercise (of one chapter, or of all imported chapters), as
    dicts with keys chapter, number, title, label, status (passed / failed / not attempted / not
    checked yet), passed and message: what a grader reads."""
    if chapter is not None:
        if chapter not in _SETS:
            raise ValueError(f"results(chapter): no exercises declared for {chapter!r}; known: {sorted(_SETS)}")
        return _SETS[chapter].results()
    return [row for name in sorted(_SETS) for row in _SETS[name].results()]


# --- comparing a student's function with a reference ----------------------------------------


class Case:
    """Arguments for one call of the student's function.

    ``case.args`` and ``case.kwargs`` are *fresh deep copies* at every access (Keras objects and
    what cannot be copied are shared), so a call that changes its inputs in place can never change
    what a later call sees, in whatever order a checker calls the reference and the student.
    """

    __slots__ = ("_args", "_kwargs")

    def __init__(self, args: Sequence[Any] = (), kwargs: dict[str, Any] | None = None):
        if not isinstance(args, (tuple, list)):
            raise TypeError(f"Case(args): args must be a tuple of arguments, got {describe(args)} "
                            "(write Case((x,)) for a single argument)")
        if kwargs is not None and (not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs)):
            raise TypeError(f"Case(kwargs): kwargs must be a dict of str keys, got {describe(kwargs)}")
        self._args, self._kwargs = tuple(args), dict(kwargs or {})

    @property
    def args(self) -> tuple:
        return _fresh(self._args)

    @property
    def kwargs(self) -> dict:
        return _fresh(self._kwargs)

    def show(self, name: str) -> str:
        parts = [describe(a) for a in self._args] + [f"{k}={describe(v)}" for k, v in self._kwargs.items()]
        return f"{name}({', '.join(parts)})"

    def __repr__(self) -> str:
        return f"Case({self.show('')[1:-1] or '()'})"


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer, written as code, and the hint to give when a student makes it."""

    fn: Callable[..., Any]
    hint: str


def describe(value: Any) -> str:
    """A short text for a value: arrays by shape and dtype, everything else by ``repr``."""
    if hasattr(value, "shape") and hasattr(value, "dtype") and np.ndim(value) > 0:
        return f"array of shape {tuple(np.shape(value))} ({np.asarray(value).dtype})"
    if isinstance(value, (tuple, list)) and any(hasattr(v, "shape") and np.ndim(v) > 0 for v in value):
        items = ", ".join(describe(v) for v in value[:4]) + (", ..." if len(value) > 4 else "")
        return f"a {type(value).__name__} of {len(value)} items ({items})"
    return repr(value)


def _to_numpy(value: Any) -> Any:
    return value.numpy() if hasattr(value, "numpy") else value


def _check_tolerances(rtol: Any, atol: Any) -> None:
    for label, tol in (("rtol", rtol), ("atol", atol)):
        if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)):
            raise TypeError(f"{label} must be a number, got {tol!r} of type {type(tol).__name__}")
        if not math.isfinite(tol) or tol < 0:
            raise ValueError(f"{label} must be finite and >= 0 (an infinite tolerance accepts anything), got {tol!r}")


def _kind(value: Any) -> str | None:
    """NumPy's dtype kind of an answer ('b' bool, 'i'/'u' int, 'f' float, 'U' str, ...), None if it has none."""
    if isinstance(value, (str, bytes)):
        return "U"
    try:
        return np.asarray(value).dtype.kind
    except Exception:  # ragged or exotic: no single dtype
        return None


def _is_bool_scalar(got: Any) -> bool:
    return isinstance(got, (bool, np.bool_)) or (isinstance(got, np.ndarray) and got.ndim == 0 and got.dtype == bool)


def _is_int_scalar(got: Any) -> bool:
    if isinstance(got, (bool, np.bool_)):
        return False
    return isinstance(got, (int, np.integer)) or (isinstance(got, np.ndarray) and got.ndim == 0 and got.dtype.kind in "iu")


def same(expected: Any, got: Any, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
    """Equality for answers: ints must be ints, bools bools (a boolean mask must have dtype bool, an
    integer array an integer dtype); floats and arrays must be allclose (NaN equals NaN, so a typical
    mistake that overflows to NaN can be recognised); tuples, lists and dicts are compared item by item.
    Never raises on a strange answer: it is simply not the same."""
    _check_tolerances(rtol, atol)
    return _same(expected, got, float(rtol), float(atol))


def _same(expected: Any, got: Any, rtol: float, atol: float) -> bool:
    got = _to_numpy(got)
    if isinstance(expected, (bool, np.bool_)):
        return _is_bool_scalar(got) and bool(got) == bool(expected)
    if isinstance(expected, (int, np.integer)):
        return _is_int_scalar(got) and int(got) == int(expected)
    if isinstance(expected, np.ndarray) and expected.dtype.kind in "bOUS":
        if _kind(got) != expected.dtype.kind and not (expected.dtype.kind in "US" and _kind(got) in "US"):
            return False
        g = np.asarray(got)
        try:
            return g.shape == expected.shape and bool(np.array_equal(g, expected))
        except Exception:
            return False
    if isinstance(expected, (float, np.floating, np.ndarray)):
        kind = _kind(got)
        if kind is None or kind not in "biuf":
            return False                               # a str like "1.5" would convert: it is no number
        if isinstance(expected, np.ndarray) and expected.dtype.kind in "iu" and kind not in "iu":
            return False                               # an integer contract: floats or bools are not ints
        try:
            g = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            return False
        e = np.asarray(expected, dtype=float)
        return g.shape == e.shape and bool(np.allclose(g, e, rtol=rtol, atol=atol, equal_nan=True))
    if isinstance(expected, (tuple, list)):
        return (
            isinstance(got, (tuple, list)) and len(got) == len(expected)
            and all(_same(e, g, rtol, atol) for e, g in zip(expected, got))
        )
    if isinstance(expected, dict):
        return (isinstance(got, dict) and set(got) == set(expected)
                and all(_same(expected[k], got[k], rtol, atol) for k in expected))
    try:
        result = expected == got
    except Exception:
        return False
    return bool(result) if isinstance(result, (bool, np.bool_)) else False


# --- the inputs of a call: fresh copies, and a check that the student left them alone ----------

_OPAQUE = ("<not comparable>",)   # state of an object whose changes cannot be seen (compares equal)


def _fresh(value: Any) -> Any:
    """A deep copy of a case's input; Keras objects, TF tensors (immutable) and whatever cannot be
    copied are shared (their changes are still detected by :func:`_state` where possible)."""
    if isinstance(value, np.ndarray):
        return value.copy() if value.dtype != object else copy.deepcopy(value)
    if type(value) in (list, tuple):
        return type(value)(_fresh(v) for v in value)
    if type(value) is dict:
        return {k: _fresh(v) for k, v in value.items()}
    if hasattr(value, "get_weights") or type(value).__name__ == "EagerTensor":
        return value
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


def _state(value: Any, depth: int = 0) -> Any:
    """A snapshot of what an input holds, for :func:`_same_state` (never raises)."""
    try:
        if depth > 30:
            return _OPAQUE
        if isinstance(value, np.ndarray):
            return ("ndarray", value.dtype.str, np.array(value, copy=True))
        if isinstance(value, (str, bytes, int, float, complex, type(None), np.generic)):
            return ("scalar", value)
        if isinstance(value, (list, tuple)):
            return (type(value).__name__, [_state(v, depth + 1) for v in value])
        if isinstance(value, dict):
            return ("dict", [(k, _state(v, depth + 1)) for k, v in value.items()])
        if isinstance(value, (set, frozenset)):
            return ("set", set(value))
        if isinstance(value, bytearray):
            return ("scalar", bytes(value))
        if hasattr(value, "get_weights"):                       # a Keras layer or model
            return ("weights", [np.array(w, copy=True) for w in value.get_weights()])
        if hasattr(value, "numpy") and hasattr(value, "dtype"):  # a TF tensor or Variable
            return ("tensor", np.array(value.numpy(), copy=True))
    except Exception:
        pass
    return _OPAQUE


def _same_state(a: Any, b: Any) -> bool:
    if a is _OPAQUE or b is _OPAQUE:
        return True
    if a[0] != b[0]:
        return False
    if a[0] in ("ndarray", "tensor", "weights"):
        xs, ys = ([a[-1]], [b[-1]]) if a[0] != "weights" else (a[1], b[1])
        if a[0] == "ndarray" and a[1] != b[1]:
            return False
        if len(xs) != len(ys):
            return False
        for x, y in zip(xs, ys):
            try:
                nan_ok = x.dtype.kind in "fc" and y.dtype.kind in "fc"
                if x.shape != y.shape or not np.array_equal(x, y, equal_nan=nan_ok):
                    return False
            except Exception:
                return False
        return True
    if a[0] == "scalar":
        x, y = a[1], b[1]
        try:
            return bool(x == y) or (x != x and y != y)
        except Exception:
            return True
    if a[0] == "dict":
        if [k for k, _ in a[1]] != [k for k, _ in b[1]]:
            return False
        return all(_same_state(x, y) for (_, x), (_, y) in zip(a[1], b[1]))
    if a[0] == "set":
        return a[1] == b[1]
    return len(a[1]) == len(b[1]) and all(_same_state(x, y) for x, y in zip(a[1], b[1]))


def _argument_names(fn: Callable[..., Any] | None, n_args: int) -> list[str]:
    """Names of the first ``n_args`` positional parameters of ``fn`` ("argument 2" where unknown)."""
    names: list[str] = []
    try:
        params = list(inspect.signature(fn).parameters.values()) if fn is not None else []
    except (TypeError, ValueError):
        params = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
    return [f"`{names[i]}` (argument {i + 1})" if i < len(names) else f"argument {i + 1}" for i in range(n_args)]


def _modified_argument(before: tuple[list, dict], args: tuple, kwargs: dict,
                       signature_of: Callable[..., Any] | None, may_modify: Sequence[str]) -> str | None:
    """The name of the first input that differs from its snapshot ``before``, if any."""
    names = _argument_names(signature_of, len(args))
    for label, old, new in zip(names, before[0], args):
        bare = label.split("`")[1] if "`" in label else label
        if bare not in may_modify and not _same_state(old, _state(new)):
            return label
    for key, old in before[1].items():
        if key not in may_modify and not _same_state(old, _state(kwargs[key])):
            return f"`{key}`"
    return None


def _modified_hint(call: str, label: str) -> str:
    return (f"{call}: your function changed its argument {label} in place. Leave the caller's data as it "
            "was and build a new result (copy first: x = x.copy(), list(xs), dict(d)): the caller may use "
            "the same data again (another branch of the graph, the next epoch, the next call)")


def call_student(student: Callable[..., Any], args: Sequence[Any] = (), kwargs: dict | None = None, *,
                 name: str | None = None, signature_of: Callable[..., Any] | None = None,
                 may_modify: Sequence[str] = ()) -> Any:
    """Call ``student`` on fresh copies of ``args``/``kwargs`` and return its answer; raise :class:`Wrong`
    naming the argument if it changed one of them in place (for checkers that do not use
    :func:`compare_with_reference`). ``signature_of`` (default: ``student``) names the arguments."""
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    case = Case(tuple(args), dict(kwargs or {}))
    a, k = case.args, case.kwargs
    before = ([_state(x) for x in a], {key: _state(v) for key, v in k.items()})
    try:
        return student(*a, **k)
    finally:
        label = _modified_argument(before, a, k, signature_of or student, may_modify)
        if label is not None:
            call = case.show(name or getattr(student, "__name__", "f"))
            raise Wrong(_modified_hint(call, label))


def _outcome(fn: Callable[..., Any], case: Case, student: bool, name: str = "f",
             signature_of: Callable[..., Any] | None = None, may_modify: Sequence[str] = ()) -> tuple:
    """("value", answer) or ("raises", exception type, message) for ``fn`` on fresh copies of the case's
    inputs; for the student, raise :class:`Wrong` if an input was changed in place."""
    args, kwargs = case.args, case.kwargs   # fresh copies
    before = ([_state(a) for a in args], {k: _state(v) for k, v in kwargs.items()}) if student else None
    try:
        # a copy of the answer: a student who returns (and later overwrites) one buffer on every call
        # cannot change an answer already recorded
        result: tuple = ("value", _fresh(_to_numpy(fn(*args, **kwargs))))
    except NotImplementedError:
        if student:
            raise NotAttempted from None
        result = ("raises", NotImplementedError, "")
    except Exception as err:
        result = ("raises", type(err), str(err))
    if before is not None:
        label = _modified_argument(before, args, kwargs, signature_of, may_modify)
        if label is not None:
            raise Wrong(_modified_hint(case.show(name), label))
    return result


def _matches(expected: tuple, got: tuple, rtol: float, atol: float) -> bool:
    if expected[0] != got[0]:
        return False
    if expected[0] == "raises":
        return issubclass(got[1], expected[1])
    return _same(expected[1], got[1], rtol, atol)


def _raised_text(got: tuple) -> str:
    return f"it raised {got[1].__name__}" + (f": {got[2]}" if got[2] else "")


def _mismatch_text(expected: tuple, got: tuple) -> str:
    if expected[0] == "raises":
        if got[0] == "raises":
            return f"expected it to raise {expected[1].__name__}, but {_raised_text(got)}"
        return f"expected it to raise {expected[1].__name__}, but it returned {describe(got[1])}"
    if got[0] == "raises":
        return f"expected {describe(expected[1])}, but {_raised_text(got)}"
    return _value_mismatch(expected[1], got[1])


_BOOL_HINT = ("a mask must be boolean — the mask must have dtype bool: ~mask on an int array flips every bit "
              "(~1 is -2), and indexing with a 0/1 array picks elements 0 and 1 instead of masking (build it "
              "with a comparison such as x > 0, or .astype(bool))")


def _value_mismatch(e: Any, g: Any, path: str = "") -> str:
    """Say how the value ``g`` differs from ``e``; walks into tuples, lists and dicts (never raises)."""
    g = _to_numpy(g)
    where = f"item {path}: " if path else ""
    if isinstance(e, (tuple, list)):
        if not isinstance(g, (tuple, list)):
            return f"{where}expected a {type(e).__name__} of {len(e)} items, got {describe(g)}"
        if len(g) != len(e):
            return f"{where}expected {len(e)} items, got {len(g)}"
        for i, (ei, gi) in enumerate(zip(e, g)):
            if not same(ei, gi):
                return _value_mismatch(ei, gi, f"{path}[{i}]")
        return f"{where}expected {describe(e)}, got {describe(g)}"
    if isinstance(e, dict):
        if not isinstance(g, dict):
            return f"{where}expected a dict with keys {sorted(map(str, e))}, got {describe(g)}"
        if set(g) != set(e):
            missing, extra = sorted(map(repr, set(e) - set(g))), sorted(map(repr, set(g) - set(e)))
            return (f"{where}the keys differ" + (f"; missing {', '.join(missing)}" if missing else "")
                    + (f"; unexpected {', '.join(extra)}" if extra else ""))
        for k in e:
            if not same(e[k], g[k]):
                return _value_mismatch(e[k], g[k], f"{path}[{k!r}]")
        return f"{where}expected {describe(e)}, got {describe(g)}"
    try:
        if isinstance(e, (bool, np.bool_)) and not _is_bool_scalar(g):
            return f"{where}expected the bool {bool(e)!r}, got {describe(g)} (return True or False, not 1 or 0)"
        if np.ndim(e) > 0 and np.shape(g) != np.shape(e):
            return f"{where}expected shape {tuple(np.shape(e))}, got shape {tuple(np.shape(g))}"
        if isinstance(e, np.ndarray) and e.dtype == bool and _kind(g) != "b":
            return f"{where}expected a boolean array, got dtype {np.asarray(g).dtype}: {_BOOL_HINT}"
        if isinstance(e, np.ndarray) and e.dtype.kind in "iu" and _kind(g) not in ("i", "u"):
            return (f"{where}expected an integer array (dtype {e.dtype}), got dtype {np.asarray(g).dtype}: "
                    "the values must be integers so that they can index and count (keep integer arithmetic, "
                    "// not /, or build the array with dtype=int)")
        if isinstance(e, (int, np.integer)) and not isinstance(e, (bool, np.bool_)) and isinstance(g, (float, np.floating)):
            return f"{where}expected the int {e!r}, got the float {g!r}"
        if _kind(g) in ("U", "S") and _kind(e) not in ("U", "S"):
            return f"{where}expected {describe(e)}, got the text {g!r} (not comparable as numbers)"
        if np.ndim(e) > 0:
            ea, ga = np.asarray(e, dtype=float), np.asarray(g, dtype=float)
            for kind, test in (("NaN", np.isnan), ("inf", np.isinf)):
                wrong = test(ea) != test(ga)
                if wrong.any():
                    first = tuple(int(i) for i in np.argwhere(wrong)[0])
                    detail = f"({wrong.sum()} places differ; expected {ea[first]}, got {ga[first]})"
                    if test(ea)[first]:
                        return f"{where}expected {kind} at index {first} {detail}"
                    return f"{where}did not expect {kind} at index {first} {detail}"
            finite = np.isfinite(ea)
            if (ea[~finite] != ga[~finite]).any():
                return f"{where}infinities of the wrong sign"
            err = np.max(np.abs(ga[finite] - ea[finite]), initial=0.0)
            return f"{where}values differ from the expected ones (max |difference| {err:.3g})"
    except (TypeError, ValueError):
        return f"{where}expected {describe(e)}, got {describe(g)} (not comparable as numbers)"
    except Exception:
        pass
    return f"{where}expected {describe(e)}, got {describe(g)}"


def compare_with_reference(
    student: Callable[..., Any],
    reference: Callable[..., Any],
    cases: Sequence[Case],
    mistakes: Sequence[Mistake] = (),
    name: str | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    may_modify: Sequence[str] = (),
) -> str:
    """Run ``student`` and ``reference`` on every case; raise :class:`Wrong` at the first difference.

    Each call gets its own deep copy of the case's inputs, so the order of the calls never matters;
    if the student changes one of its inputs in place, the hint names that argument (unless it is
    listed in ``may_modify``, by parameter name). When the student's output on the failing case equals
    a :class:`Mistake`'s output, the hint of that mistake is given (preferring a mistake that
    reproduces the student on every case); otherwise the hint says what was expected. An expected
    exception is a case whose reference raises (the student must raise the same type).
    """
    if not callable(reference):
        raise TypeError(f"compare_with_reference: reference must be a function, got {describe(reference)}")
    cases = list(cases)
    if not cases:
        raise ValueError("compare_with_reference: cases is empty; a checker needs at least one Case "
                         "(it would otherwise say 'correct on 0 cases')")
    bad = [c for c in cases if not isinstance(c, Case)]
    if bad:
        raise TypeError(f"compare_with_reference: every case must be a Case, got {describe(bad[0])}")
    mistakes = list(mistakes)
    if any(not isinstance(m, Mistake) for m in mistakes):
        raise TypeError("compare_with_reference: every mistake must be a Mistake(fn, hint)")
    _check_tolerances(rtol, atol)
    if isinstance(may_modify, str):
        may_modify = (may_modify,)
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    name = name or getattr(reference, "__name__", "f")

    def run_student(case: Case) -> tuple:
        return _outcome(student, case, True, name, reference, may_modify)

    for i, case in enumerate(cases):
        expected = _outcome(reference, case, student=False)
        got = run_student(case)
        if _matches(expected, got, rtol, atol):
            continue
        # Which typical mistake is it? Prefer one that reproduces the student on every case.
        later = [run_student(c) for c in cases[i + 1:]]
        candidates = [m for m in mistakes if _matches(_outcome(m.fn, case, student=False), got, rtol, atol)]
        for mistake in candidates:
            if all(_matches(_outcome(mistake.fn, c, student=False), g, rtol, atol)
                   for c, g in zip(cases[i + 1:], later)):
                raise Wrong(f"{case.show(name)}: {mistake.hint}")
        if candidates:
            raise Wrong(f"{case.show(name)}: {candidates[0].hint}")
        raise Wrong(f"{case.show(name)}: {_mismatch_text(expected, got)}")
    return f"correct on {len(cases)} cases"
