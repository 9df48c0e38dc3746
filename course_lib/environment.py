"""The one call every notebook starts with: :func:`setup_notebook`.

It quiets TensorFlow *before* TensorFlow is imported, sets every seed and op determinism, installs
what the course needs when it runs on Colab, sets matplotlib to PNG output, picks the
``tf.distribute`` strategy and prints a short report of versions and devices.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

from course_lib._validate import check_arguments

__all__ = [
    "in_colab", "set_seed", "environment_report", "replicas_from_environment", "setup_notebook",
    "keras_needs_upgrade", "language_from_environment", "find_cjk_font", "use_cjk_font",
]

#: Packages the course needs beyond what Colab preinstalls (import name -> pip requirement).
COLAB_EXTRAS = {"gymnasium": "gymnasium>=1.0", "tensorboard": "tensorboard>=2.19"}  # installed only if missing
#: The lowest Keras the course supports (pyproject.toml, requirements-lowest.txt): 3.14 is the first
#: release with the known ``safe_mode`` bypasses fixed. On Colab an older Keras is upgraded, alone.
MIN_KERAS = "3.14"
MIN_TENSORFLOW = "2.19"  # the lowest TensorFlow `make compat` tests (Colab's runtime from July 2025)
REPLICAS_VARIABLE = "COURSE_CPU_REPLICAS"  # raises setup_notebook(cpu_replicas=...) to at least this
LANGUAGES = ("en", "zh")  # the course's editions: English, and the Chinese edition (zh/)
LANGUAGE_VARIABLE = "COURSE_LANG"  # the language of checker messages when setup_notebook is given none
#: CJK fonts matplotlib may draw Chinese with, preferred first (simplified-Chinese forms first).
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Noto Serif CJK SC", "Source Han Serif SC",
             "Noto Sans CJK TC", "Noto Sans CJK JP", "Noto Serif CJK JP")
_CJK_FILE = re.compile(r"(notosanscjk|notoserifcjk|notosanssc|notoserifsc|sourcehan|wqy|wenquanyi)", re.I)


def in_colab() -> bool:
    """True when running inside Google Colab."""
    return "google.colab" in sys.modules


def _quiet_tensorflow() -> None:
    """Set the environment variables that must be in place before TensorFlow loads."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no INFO/WARNING lines; errors (e.g. why no GPU) still show
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # same float results as without oneDNN
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "tensorflow" in sys.modules:
        print(
            "note: TensorFlow was imported before setup_notebook(); its start-up log lines may show. "
            "Restart the kernel and run the setup cell first to keep them quiet."
        )


def _install_colab_extras() -> list[str]:
    """On Colab, pip-install the few packages Colab lacks. Returns what was installed."""
    missing = [req for mod, req in COLAB_EXTRAS.items() if importlib.util.find_spec(mod) is None]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True)
    return missing


def _version_tuple(text: str) -> tuple[int, ...]:
    """``"3.10.0"`` -> ``(3, 10, 0)``; the leading digits of each part count (``"0rc1"`` -> 0), a
    local part (``+cu12``) is dropped and the first part without a leading digit ends the version."""
    parts = []
    for piece in text.split("+")[0].split("."):
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def keras_needs_upgrade(installed: str | None, minimum: str = MIN_KERAS) -> bool:
    """Whether the installed Keras version is missing or older than ``minimum``.

    Raises:
        TypeError: when ``installed`` is not a version string or None, or ``minimum`` is not a string.
        ValueError: when a version does not start with a number (e.g. ``"3.14"``).
    """
    for name, value, optional in (("installed", installed, True), ("minimum", minimum, False)):
        if value is None and optional:
            continue
        if not isinstance(value, str):
            raise TypeError(f"expected {name} to be a version string like '3.14.0', got {value!r}")
        if not _version_tuple(value):
            raise ValueError(f"expected {name} to be a version string like '3.14.0', got {value!r}")
    return installed is None or _version_tuple(installed) < _version_tuple(minimum)


def _upgrade_colab_keras() -> str | None:
    """On Colab, upgrade Keras alone (never TensorFlow) when it is older than :data:`MIN_KERAS`.

    Must run before Keras is imported. Returns a note of what was done, or None.
    """
    from importlib import metadata

    try:
        installed: str | None = metadata.version("keras")
    except metadata.PackageNotFoundError:
        installed = None
    if not keras_needs_upgrade(installed):
        return None
    if "keras" in sys.modules:
        return (f"Keras {installed} is older than the course's minimum {MIN_KERAS} and is already imported: "
                f"run `pip install -q 'keras>={MIN_KERAS},<4'`, restart the session and run this cell again")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"keras>={MIN_KERAS},<4"], check=True)
    return f"keras {installed} -> {metadata.version('keras')} (TensorFlow left as installed)"


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and TensorFlow's random generators (``keras.utils.set_random_seed``).

    Raises:
        ValueError: if ``seed`` is not a non-negative integer.
    """
    check_arguments(set_seed, locals(), seed="own")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"expected seed to be a non-negative int, got {seed!r}")
    import keras

    keras.utils.set_random_seed(seed)


def _configure_matplotlib() -> None:
    import matplotlib

    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # no IPython: nothing to display inline
        shell = None
    if shell is not None and hasattr(shell, "kernel"):  # a Jupyter kernel (not a terminal IPython)
        # Figures inline, even if MPLBACKEND names another backend; PNG, never SVG (SVG embeds a date).
        shell.run_line_magic("matplotlib", "inline")
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
    matplotlib.rcParams.update(
        {
            "figure.dpi": 90,
            "savefig.dpi": 90,
            "figure.figsize": (6.0, 3.6),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "image.cmap": "viridis",
        }
    )


def language_from_environment(default: str = "en") -> str:
    """The course's language: ``COURSE_LANG`` when it is set (``en`` or ``zh``), else ``default``.

    Raises:
        ValueError: when ``default`` or the variable is not one of the course's languages.
    """
    check_arguments(language_from_environment, locals(), default="own")
    if default not in LANGUAGES:
        raise ValueError(f"expected default to be one of {LANGUAGES}, got {default!r}")
    text = os.environ.get(LANGUAGE_VARIABLE, "").strip().lower()
    if not text:
        return default
    if text not in LANGUAGES:
        raise ValueError(f"expected {LANGUAGE_VARIABLE} to be one of {LANGUAGES}, got {text!r}")
    return text


def find_cjk_font() -> str | None:
    """The family name of a CJK font matplotlib can use (Noto CJK, Source Han, WenQuanYi), or None.

    Looks among the fonts matplotlib knows, then among the system's font files (a font installed
    after matplotlib built its font cache is added to it for this process).
    """
    from matplotlib import font_manager

    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((n for n in CJK_FONTS if n in names), None)

    found = known()
    if found is None:
        for path in font_manager.findSystemFonts():
            if _CJK_FILE.search(Path(path).name):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # an unreadable or unsupported font file
                    continue
        found = known()
    return found


def use_cjk_font(install: bool = False) -> str | None:
    """Let matplotlib draw Chinese: put a CJK font in ``font.sans-serif`` right after DejaVu Sans and
    after the families of ``font.family`` (so Latin text looks as before and only characters DejaVu
    lacks come from the CJK font).

    With ``install=True`` and no CJK font found, installs Debian's ``fonts-noto-cjk`` quietly with
    apt-get (what :func:`setup_notebook` does on Colab for the Chinese edition). Returns the font's
    family, or None when there is none (Chinese labels would then show as boxes).
    """
    check_arguments(use_cjk_font, locals())
    import matplotlib

    family = find_cjk_font()
    if family is None and install:
        for step in (["install"], ["update"], ["install"]):  # a fresh image may need its package lists first
            args = ["apt-get", "-qq", *step] + (["-y", "fonts-noto-cjk"] if step == ["install"] else [])
            done = subprocess.run(args, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if step == ["install"] and done.returncode == 0:
                break
        family = find_cjk_font()
    if family is None:
        return None
    fonts = [f for f in matplotlib.rcParams["font.sans-serif"] if f != family]
    if "DejaVu Sans" not in fonts:
        fonts.insert(0, "DejaVu Sans")
    at = fonts.index("DejaVu Sans") + 1
    matplotlib.rcParams["font.sans-serif"] = [*fonts[:at], family, *fonts[at:]]
    # matplotlib falls back glyph by glyph only across the *families* of font.family (a generic family
    # such as "sans-serif" stands for its first installed font): the CJK family comes after them.
    families = [f for f in matplotlib.rcParams["font.family"] if f != family]
    matplotlib.rcParams["font.family"] = [*families, family]
    return family


def _set_message_language(lang: str) -> bool:
    """Tell the checkers' message catalogue the language; False when the catalogue is not there."""
    try:
        from course_lib import messages  # the checkers' catalogue (gettext-style), see issue 19
    except ImportError:
        return False
    messages.set_language(lang)
    return True


def environment_report(strategy: Any | None = None) -> dict[str, str]:
    """Versions, devices and the strategy, as a dict of short strings."""
    check_arguments(environment_report, locals(), strategy="own")
    import keras
    import numpy as np
    import tensorflow as tf

    from course_lib.distribute import describe_strategy

    devices = tf.config.list_logical_devices()
    report = {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "backend": keras.backend.backend(),
        "colab": "yes" if in_colab() else "no",
        "devices": ", ".join(f"{d.name} ({d.device_type})" for d in devices),
    }
    if strategy is not None:
        report["strategy"] = describe_strategy(strategy)
    return report


def replicas_from_environment(default: int) -> int:
    """The number of simulated CPU replicas: at least ``COURSE_CPU_REPLICAS`` when it is set.

    Raises:
        ValueError: when the variable is set to anything but a whole number >= 1.
    """
    check_arguments(replicas_from_environment, locals())
    text = os.environ.get(REPLICAS_VARIABLE, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"expected {REPLICAS_VARIABLE} to be a whole number >= 1, got {text!r}")
    return max(default, int(text))


def setup_notebook(seed: int = 42, cpu_replicas: int = 1, *, lang: str | None = None, verbose: bool = True) -> Any:
    """Prepare a notebook; call it in the first code cell, before anything imports TensorFlow.

    1. quiets TensorFlow (``TF_CPP_MIN_LOG_LEVEL``, ``TF_ENABLE_ONEDNN_OPTS=0``) before it loads;
    2. on Colab, installs the packages the course needs that Colab lacks;
    3. splits the CPU into ``cpu_replicas`` logical devices when asked (to simulate replicas);
    4. seeds Python, NumPy and TensorFlow and turns on op determinism;
    5. makes matplotlib draw PNG figures;
    6. picks the strategy (TPU -> several GPUs -> one GPU -> CPU) and prints a short report;
    7. sets the language of the checkers' messages; for Chinese, lets matplotlib draw Chinese text
       (a CJK font after DejaVu Sans; on Colab ``fonts-noto-cjk`` is installed when none is found).

    Args:
        seed: the seed for every random generator.
        cpu_replicas: how many logical CPU devices to make; with more than one and no accelerator,
            the strategy mirrors the model over them. The environment variable
            ``COURSE_CPU_REPLICAS`` raises it to at least its value, so an instructor can rehearse
            every notebook on several replicas (``python -m course_lib rehearse --replicas 2``).
        lang: ``"en"`` or ``"zh"`` (the Chinese edition's notebooks pass ``lang="zh"``); None takes
            ``COURSE_LANG`` when it is set, else English.
        verbose: print the version and device report.

    Returns:
        The ``tf.distribute.Strategy`` every model in the notebook is built under.
    """
    check_arguments(setup_notebook, locals(), seed="own", cpu_replicas="own", lang="own")
    if isinstance(cpu_replicas, bool) or not isinstance(cpu_replicas, int) or cpu_replicas < 1:
        raise ValueError(f"expected cpu_replicas to be an int >= 1, got {cpu_replicas!r}")
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"expected lang to be one of {LANGUAGES}, got {lang!r}")
    cpu_replicas = replicas_from_environment(cpu_replicas)
    lang = lang or language_from_environment("en")
    _quiet_tensorflow()
    installed = _install_colab_extras() if in_colab() else []
    keras_note = _upgrade_colab_keras() if in_colab() else None

    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    # fit(tf.data.Dataset) warns that its default shuffle=True is ignored: our pipelines shuffle.
    warnings.filterwarnings("ignore", message=r".*`shuffle=True` was passed, but will be ignored.*")
    from course_lib.distribute import get_strategy, simulate_cpu_replicas

    if cpu_replicas > 1:
        simulate_cpu_replicas(cpu_replicas)
    set_seed(seed)
    tf.config.experimental.enable_op_determinism()
    _configure_matplotlib()
    catalogue = _set_message_language(lang)
    had_font = lang != "zh" or find_cjk_font() is not None
    font = use_cjk_font(install=in_colab()) if lang == "zh" else None
    strategy = get_strategy()
    if verbose:
        report = environment_report(strategy)
        report["seed"] = f"{seed} (op determinism on)"
        if installed:
            report["installed on Colab"] = ", ".join(installed)
        if keras_note:
            report["keras upgraded"] = keras_note
        if lang != "en":
            report["language"] = lang + ("" if catalogue else " (checker messages in English: no catalogue)")
            report["CJK font"] = (f"{font}{'' if had_font else ' (installed fonts-noto-cjk with apt-get)'}" if font
                                  else "none found: Chinese text in figures shows as boxes")
        if _version_tuple(tf.__version__) < _version_tuple(MIN_TENSORFLOW):
            report["warning"] = (f"TensorFlow {tf.__version__} is older than {MIN_TENSORFLOW}, the lowest version "
                                 "the course is tested with: some cells may fail")
        width = max(len(k) for k in report)
        for key, value in report.items():
            print(f"{key:<{width}} : {value}")
    return strategy
