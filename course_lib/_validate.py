"""Argument checks shared by course_lib's public functions (private: not part of the course's API).

Every check names the argument and says what was expected, so a wrong call fails at the boundary
with a message the caller can act on, not deep inside NumPy or TensorFlow. A wrong *type* raises
:class:`ArgumentTypeError`, which is both a ``TypeError`` and a ``ValueError`` (so code that caught
the ``ValueError`` these functions raised before keeps working); a wrong *value* raises ``ValueError``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable

import numpy as np

__all__ = ["ArgumentTypeError", "MAX_SEED", "check_int", "check_float", "check_seed", "check_str",
           "check_bool", "check_callable", "check_path", "check_array", "check_mapping", "check_strings"]

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
        raise ArgumentTypeError(f"expected {name} to be a function, got {_describe(value)}")
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
