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
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

PASSED, FAILED, NOT_ATTEMPTED = "passed", "failed", "not attempted"
_SYMBOL = {PASSED: "✓", FAILED: "✗", NOT_ATTEMPTED: "○"}
_strict: bool | None = None


class NotAttempted(Exception):
    """The student's code still raises ``NotImplementedError`` (or is ``None``)."""


class Wrong(Exception):
    """The answer is wrong; the message is the hint shown to the student."""


class ExerciseError(AssertionError):
    """Raised in strict mode when an exercise is not passed."""


def set_strict(flag: bool = True) -> None:
    """Make every checker raise :class:`ExerciseError` unless the answer is correct."""
    global _strict
    _strict = bool(flag)


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
        return f"{_SYMBOL[self.status]} {self.label}: {self.message}"


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
        except Exception as err:  # a bug in the student's code, reported, never fatal
            return Result(self.label, FAILED, f"your code raised {type(err).__name__}: {err}")
        return Result(self.label, PASSED, detail or "correct")

    def __call__(self, student: Any) -> None:
        """Check ``student``, print the one-line result and remember it for the summary."""
        self.last = result = self.evaluate(student)
        print(result)
        if is_strict() and not result.passed:
            raise ExerciseError(str(result))

    def __repr__(self) -> str:
        return f"<{self.label} ({self.chapter})>"


class ExerciseSet:
    """The exercises of one chapter, with a decorator to declare them and a summary."""

    def __init__(self, chapter: str):
        self.chapter = chapter
        self.exercises: list[Exercise] = []

    def exercise(self, number: int, title: str) -> Callable[[Callable[[Any], str | None]], Exercise]:
        """Decorator turning a checking function into an :class:`Exercise`."""

        def wrap(body: Callable[[Any], str | None]) -> Exercise:
            if any(e.number == number for e in self.exercises):
                raise ValueError(f"{self.chapter}: exercise {number} is declared twice")
            ex = Exercise(self.chapter, number, title, body)
            self.exercises.append(ex)
            return ex

        return wrap

    def summary(self) -> None:
        """Print each exercise of the chapter with its latest status in this session."""
        done = sum(1 for e in self.exercises if e.last is not None and e.last.passed)
        print(f"{self.chapter}: {done} of {len(self.exercises)} exercises correct")
        for e in sorted(self.exercises, key=lambda e: e.number):
            status = e.last.status if e.last is not None else "not checked yet"
            print(f"  {_SYMBOL.get(status, '·')} {e.label}: {status}")


# --- comparing a student's function with a reference ----------------------------------------


@dataclass(frozen=True)
class Case:
    """Arguments for one call of the student's function."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def show(self, name: str) -> str:
        parts = [describe(a) for a in self.args] + [f"{k}={describe(v)}" for k, v in self.kwargs.items()]
        return f"{name}({', '.join(parts)})"


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


def same(expected: Any, got: Any, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
    """Equality for answers: ints must be ints, bools bools; floats and arrays must be allclose
    (NaN equals NaN, so a typical mistake that overflows to NaN can be recognised)."""
    got = _to_numpy(got)
    if isinstance(expected, bool):
        return isinstance(got, (bool, np.bool_)) and bool(got) == expected
    if isinstance(expected, (int, np.integer)):
        return isinstance(got, (int, np.integer)) and not isinstance(got, bool) and int(got) == int(expected)
    if isinstance(expected, (float, np.floating, np.ndarray)):
        try:
            g = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            return False
        e = np.asarray(expected, dtype=float)
        return g.shape == e.shape and bool(np.allclose(g, e, rtol=rtol, atol=atol, equal_nan=True))
    if isinstance(expected, (tuple, list)):
        return (
            isinstance(got, (tuple, list)) and len(got) == len(expected)
            and all(same(e, g, rtol, atol) for e, g in zip(expected, got))
        )
    return bool(expected == got)


def _outcome(fn: Callable[..., Any], case: Case, student: bool) -> tuple[str, Any]:
    try:
        return ("value", _to_numpy(fn(*case.args, **case.kwargs)))
    except NotImplementedError:
        if student:
            raise NotAttempted from None
        return ("raises", NotImplementedError)
    except Exception as err:
        return ("raises", type(err))


def _matches(expected: tuple[str, Any], got: tuple[str, Any], rtol: float, atol: float) -> bool:
    if expected[0] != got[0]:
        return False
    if expected[0] == "raises":
        return issubclass(got[1], expected[1])
    return same(expected[1], got[1], rtol, atol)


def _mismatch_text(expected: tuple[str, Any], got: tuple[str, Any]) -> str:
    if expected[0] == "raises":
        return f"expected it to raise {expected[1].__name__}, but it returned {describe(got[1])}"
    if got[0] == "raises":
        return f"expected {describe(expected[1])}, but it raised {got[1].__name__}"
    return _value_mismatch(expected[1], got[1])


def _value_mismatch(e: Any, g: Any, path: str = "") -> str:
    """Say how the value ``g`` differs from ``e``; walks into tuples and lists (never raises)."""
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
    try:
        if np.ndim(e) > 0 and np.shape(g) != np.shape(e):
            return f"{where}expected shape {tuple(np.shape(e))}, got shape {tuple(np.shape(g))}"
        if isinstance(e, (int, np.integer)) and not isinstance(e, bool) and isinstance(g, (float, np.floating)):
            return f"{where}expected the int {e!r}, got the float {g!r}"
        if np.ndim(e) > 0:
            ea, ga = np.asarray(e, dtype=float), np.asarray(g, dtype=float)
            for kind, test in (("NaN", np.isnan), ("inf", np.isinf)):
                wrong = test(ea) != test(ga)
                if wrong.any():
                    first = tuple(int(i) for i in np.argwhere(wrong)[0])
                    has = "expected" if test(ea)[first] else "did not expect"
                    return (f"{where}{has} {kind} at index {first} ({wrong.sum()} places differ; "
                            f"expected {ea[first]}, got {ga[first]})")
            finite = np.isfinite(ea)
            if (ea[~finite] != ga[~finite]).any():
                return f"{where}infinities of the wrong sign"
            err = np.max(np.abs(ga[finite] - ea[finite]), initial=0.0)
            return f"{where}values differ from the expected ones (max |difference| {err:.3g})"
    except (TypeError, ValueError):
        return f"{where}expected {describe(e)}, got {describe(g)} (not comparable as numbers)"
    return f"{where}expected {describe(e)}, got {describe(g)}"


def compare_with_reference(
    student: Callable[..., Any],
    reference: Callable[..., Any],
    cases: Sequence[Case],
    mistakes: Sequence[Mistake] = (),
    name: str | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> str:
    """Run ``student`` and ``reference`` on every case; raise :class:`Wrong` at the first difference.

    When the student's output on the failing case equals a :class:`Mistake`'s output, the hint of
    that mistake is given (preferring a mistake that reproduces the student on every case);
    otherwise the hint says what was expected. An expected exception is a
    case whose reference raises (the student must raise the same type).
    """
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    name = name or getattr(reference, "__name__", "f")
    for i, case in enumerate(cases):
        expected = _outcome(reference, case, student=False)
        got = _outcome(student, case, student=True)
        if _matches(expected, got, rtol, atol):
            continue
        # Which typical mistake is it? Prefer one that reproduces the student on every case.
        later = [_outcome(student, c, student=True) for c in cases[i + 1:]]
        candidates = [m for m in mistakes if _matches(_outcome(m.fn, case, student=False), got, rtol, atol)]
        for mistake in candidates:
            if all(_matches(_outcome(mistake.fn, c, student=False), g, rtol, atol)
                   for c, g in zip(cases[i + 1:], later)):
                raise Wrong(f"{case.show(name)}: {mistake.hint}")
        if candidates:
            raise Wrong(f"{case.show(name)}: {candidates[0].hint}")
        raise Wrong(f"{case.show(name)}: {_mismatch_text(expected, got)}")
    return f"correct on {len(cases)} cases"
