"""Argument checks shared by course_lib's public functions (private: not part of the course's API).

Every check names the argument and says what was expected, so a wrong call fails at the boundary
with a message the caller can act on, not deep inside NumPy or TensorFlow. A wrong *type* raises
:class:`ArgumentTypeError`, which is both a ``TypeError`` and a ``ValueError`` (so code that caught
the ``ValueError`` these functions raised before keeps working); a wrong *value* raises ``ValueError``.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable

import numpy as np

__all__ = ["ArgumentTypeError", "MAX_SEED", "check_int", "check_float", "check_seed", "check_str",
           "check_bool", "check_callable", "check_path", "check_array", "check_mapping", "check_strings",
           "check_arguments", "INT_RANGE"]

#: Seeds are ints in [0, MAX_SEED]: what NumPy, TensorFlow and Python's random all accept.
MAX_SEED = 2**32 - 1


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (also a ``ValueError``, for callers that catch that)."""


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _range_text(low: Any, high: Any, low_open: bool = False, high_open: bool = False) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high}"
    return ""


def check_int(value: Any, name: str, low: int | None = None, high: int | None = None, *,
              none: bool = False) -> Any:
    """``value`` as a Python int in [low, high] (bools refused: ``True`` is not a count)."""
    if value is None and none:
        return None
    expected = f"expected {name} to be {'None or ' if none else ''}an int{_range_text(low, high)}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ArgumentTypeError(f"{expected}, got {_describe(value)}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{expected}, got {value}")
    return value


def check_float(value: Any, name: str, low: float | None = None, high: float | None = None, *,
                low_open: bool = False, high_open: bool = False, none: bool = False) -> Any:
    """``value`` as a finite Python float in the given range (NaN and inf refused, bools too)."""
    if value is None and none:
        return None
    expected = (f"expected {name} to be {'None or ' if none else ''}a finite number"
                f"{_range_text(low, high, low_open, high_open)}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ArgumentTypeError(f"{expected}, got {_describe(value)}")
    value = float(value)
    if (not math.isfinite(value)
            or (low is not None and (value <= low if low_open else value < low))
            or (high is not None and (value >= high if high_open else value > high))):
        raise ValueError(f"{expected}, got {value!r}")
    return value


def check_seed(value: Any, name: str = "seed") -> int:
    """A seed: an int in [0, 2**32 - 1]."""
    return check_int(value, name, 0, MAX_SEED)


def check_str(value: Any, name: str, choices: Any = None, *, empty: bool = False, none: bool = False) -> Any:
    """A string (non-empty unless ``empty``), one of ``choices`` if given."""
    if value is None and none:
        return None
    if not isinstance(value, str):
        what = f"one of {list(choices)}" if choices is not None else "a string"
        raise ArgumentTypeError(f"expected {name} to be {'None or ' if none else ''}{what}, got {_describe(value)}")
    if choices is not None and value not in choices:
        raise ValueError(f"expected {name} to be one of {list(choices)}, got {value!r}")
    if not empty and not value.strip():
        raise ValueError(f"expected {name} to be a non-empty string, got {value!r}")
    return value


def check_bool(value: Any, name: str) -> bool:
    """A bool (``True``/``False``; 0/1 and strings such as ``"False"`` are refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"expected {name} to be True or False, got {_describe(value)}")
    return bool(value)


def check_callable(value: Any, name: str, *, none: bool = False) -> Any:
    """A function (anything callable)."""
    if value is None and none:
        return None
    if not callable(value):
        raise ArgumentTypeError(f"expected a function as {name}, got {_describe(value)}")
    return value


def check_path(value: Any, name: str, *, none: bool = False) -> Any:
    """A file system path (str or ``os.PathLike``, not empty) as a ``pathlib.Path``."""
    if value is None and none:
        return None
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise ArgumentTypeError(f"expected {name} to be a path (str or pathlib.Path), got {_describe(value)}")
    if not str(value).strip():
        raise ValueError(f"expected {name} to be a non-empty path, got {value!r}")
    if "\x00" in str(value):
        raise ValueError(f"expected {name} to be a path without NUL characters, got {value!r}")
    return Path(value)


def check_array(value: Any, name: str, *, ndim: int | tuple[int, ...] | None = None, numeric: bool = True,
                finite: bool = False, nonempty: bool = False, dtype: Any = None) -> np.ndarray:
    """``value`` as a NumPy array (a list, a tensor...), checked for rank, numbers and finiteness."""
    if value is None:
        raise ArgumentTypeError(f"expected {name} to be an array, got None")
    if isinstance(value, (str, bytes, Mapping)) or callable(value) and not hasattr(value, "__array__"):
        raise ArgumentTypeError(f"expected {name} to be an array, got {_describe(value)}")
    try:
        array = np.asarray(value) if dtype is None else np.asarray(value, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as err:
        raise ValueError(f"expected {name} to be an array of {'numbers' if numeric else 'values'}: {err}") from None
    if numeric and array.dtype.kind not in "biuf":
        raise ArgumentTypeError(f"expected {name} to hold numbers, got an array of dtype {array.dtype}")
    if ndim is not None:
        ranks = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in ranks:
            raise ValueError(f"expected {name} to be {' or '.join(f'{r}-D' for r in ranks)}, got shape {array.shape}")
    if nonempty and array.size == 0:
        raise ValueError(f"expected {name} to be non-empty, got shape {array.shape}")
    if finite and array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise ValueError(f"expected {name} to hold finite numbers, got NaN or inf")
    return array


def check_mapping(value: Any, name: str, *, nonempty: bool = True, none: bool = False) -> Any:
    """A mapping (dict), non-empty unless told otherwise."""
    if value is None and none:
        return None
    if not isinstance(value, Mapping):
        raise ArgumentTypeError(f"expected {name} to be a dict, got {_describe(value)}")
    if nonempty and not value:
        raise ValueError(f"expected {name} to be a non-empty dict, got {{}}")
    return value


def check_strings(value: Any, name: str, *, nonempty: bool = False, none: bool = False) -> Any:
    """A list or tuple of strings (a lone string is refused: it would be split into characters)."""
    if value is None and none:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray)):
        raise ArgumentTypeError(f"expected {name} to be a list of strings, got {_describe(value)}")
    bad = [v for v in value if not isinstance(v, str)]
    if bad:
        raise ArgumentTypeError(f"expected {name} to hold strings, got {_describe(bad[0])}")
    if nonempty and len(value) == 0:
        raise ValueError(f"expected {name} to be a non-empty list of strings, got an empty one")
    return list(value)


#: Default range of an int argument that has no range of its own (a count, an index, a size in a plot).
INT_RANGE = (0, 10**7)


def _check_pair(value: Any, name: str) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list, np.ndarray)) or len(value) != 2:
        raise ArgumentTypeError(f"expected {name} to be a pair of numbers (a, b), got {_describe(value)}")
    return (check_float(value[0], f"{name}[0]"), check_float(value[1], f"{name}[1]"))


def _check_sequence(value: Any, name: str) -> Any:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple, np.ndarray, range)):
        raise ArgumentTypeError(f"expected {name} to be a list (or tuple, or array), got {_describe(value)}")
    return value


@functools.lru_cache(maxsize=None)
def _parameters(fn: Callable[..., Any]) -> tuple[tuple[str, str, bool], ...]:
    """``(name, annotation without None, accepts None)`` of each named parameter of ``fn``."""
    import inspect

    out = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name == "self":
            continue
        annotation = p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", "")
        parts = [a.strip() for a in annotation.split("|")]
        out.append((p.name, " | ".join(a for a in parts if a != "None"), "None" in parts or p.default is None))
    return tuple(out)


def _check_kind(value: Any, name: str, base: str) -> None:
    if base in ("int", "float") and name != "seed" and (
            isinstance(value, (str, bytes)) or not isinstance(value, (int, float, np.integer, np.floating))):
        raise ArgumentTypeError(f"expected {name} to be {'an int' if base == 'int' else 'a number'}, got {_describe(value)}")
    if base in ("Sequence[float]", "Sequence[int]") and isinstance(value, (str, bytes)):
        raise ArgumentTypeError(f"expected {name} to be a list of numbers, got {_describe(value)}")
    if base == "bool":
        check_bool(value, name)
    if base == "str" and not isinstance(value, str):
        raise ArgumentTypeError(f"expected {name} to be a string, got {_describe(value)}")
    if base.startswith(("Sequence", "list", "tuple")) and (
            isinstance(value, Mapping) or not (hasattr(value, "__len__") and hasattr(value, "__iter__"))):
        raise ArgumentTypeError(f"expected {name} to be a list (or tuple, or array), got {_describe(value)}")
    if base.startswith(("Mapping", "dict")) and not isinstance(value, Mapping):
        raise ArgumentTypeError(f"expected {name} to be a dict, got {_describe(value)}")
    if base.startswith("Callable") and not callable(value):
        raise ArgumentTypeError(f"expected a function as {name}, got {_describe(value)}")
    if base in ("Path", "str | Path", "Path | str"):
        check_path(value, name)


def check_arguments(fn: Callable[..., Any], values: Mapping[str, Any], /, **spec: Any) -> None:
    """Check every argument of ``fn`` against its annotation: call as ``check_arguments(f, locals())``.

    The annotation decides the check: ``int`` (in ``INT_RANGE`` unless ``spec`` gives a range),
    ``float`` (finite), ``bool``, ``str``, ``Sequence[str]``, ``Sequence[float]``/``Sequence[int]``
    (a 1-D numeric array), ``tuple[float, float]``, a ``Mapping``/``dict``, a ``Callable``, a path;
    ``... | None`` (or a ``None`` default) also accepts None. ``spec`` overrides per argument:
    ``(low, high)`` for a number's range, ``"array"`` for a numeric array, ``"arrays"`` for a list
    of numeric arrays, ``"sequence"`` for a list, ``"own"`` for an argument whose values the function
    checks itself (only a wrong kind -- not a string, not a list, not a dict -- is refused here), or
    ``None`` to skip the argument.
    """
    for name, base, optional in _parameters(fn):
        if name not in values:
            continue
        value = values[name]
        rule = spec.get(name, "auto")
        if rule == "auto" and base == "int" and (name == "seed" or name.endswith("_seed")):
            rule = "seed"
        if rule is None or (value is None and optional):
            continue
        if rule == "own":  # the function checks this argument's values itself: only refuse a wrong kind
            _check_kind(value, name, base)
            continue
        if isinstance(rule, tuple):
            if base.startswith("float") or any(isinstance(b, float) for b in rule):
                check_float(value, name, rule[0], rule[1])
            else:
                check_int(value, name, rule[0], rule[1])
        elif rule == "array":
            check_array(value, name)
        elif rule == "arrays":
            _check_sequence(value, name)
            for i, item in enumerate(value):
                check_array(item, f"{name}[{i}]")
        elif rule == "sequence":
            _check_sequence(value, name)
        elif rule == "seed":
            check_seed(value, name)
        elif base == "int":
            check_int(value, name, *INT_RANGE)
        elif base == "float":
            check_float(value, name)
        elif base == "bool":
            check_bool(value, name)
        elif base == "str":
            check_str(value, name, empty=True)
        elif base in ("Sequence[str]", "list[str]", "tuple[str, ...]"):
            check_strings(value, name)
        elif base in ("Sequence[float]", "Sequence[int]", "list[float]", "list[int]"):
            check_array(value, name, ndim=1)
        elif base == "tuple[str, str]":
            if len(check_strings(value, name)) != 2:
                raise ValueError(f"expected {name} to be two strings, got {len(value)}")
        elif base.startswith("tuple[float, float]"):
            _check_pair(value, name)
        elif base.startswith(("Mapping", "dict")):
            check_mapping(value, name, nonempty=False)
        elif base.startswith("Callable"):
            check_callable(value, name)
        elif base in ("Path", "str | Path", "Path | str"):
            check_path(value, name)
        elif base.startswith(("Sequence", "list", "tuple")):
            if not (hasattr(value, "__len__") and hasattr(value, "__iter__")) or isinstance(value, Mapping):
                raise ArgumentTypeError(f"expected {name} to be a list (or tuple, or array), got {_describe(value)}")
        elif value is None:
            raise ArgumentTypeError(f"expected {name} to be given, got None")
