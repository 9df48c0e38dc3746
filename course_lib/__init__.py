"""course_lib: the small helper library of the course *AI large models from first principles*.

Importing this package is cheap and does **not** import TensorFlow: the first code cell of every
notebook calls :func:`setup_notebook`, which quiets TensorFlow's logging *before* TensorFlow loads.

Modules (one concern each):

- ``environment``  -- ``setup_notebook``: logging, seeds, determinism, Colab, version/device report
- ``distribute``   -- choosing a ``tf.distribute`` strategy, simulated CPU replicas, global batches
- ``data``         -- digits, sample photos, MNIST (online) and the generated datasets in ``datasets/``
- ``generators``   -- the code that generates the datasets in ``datasets/``
- ``plots``        -- training curves, image grids, heatmaps
- ``exercises``    -- the checker framework behind every chapter's exercises
- ``checks_NN``    -- the checkers of chapter NN's exercises
- ``nbtools``      -- executing notebooks and checking them with nbval (``python -m course_lib``)
- ``messages``     -- checker feedback in the student's language (catalogue ``locale/zh.po``)
- ``i18n``         -- the Chinese edition: translation files in ``i18n/zh/``, the notebooks in ``zh/``
- ``book``, ``grade`` -- the book site and the grading of a class (``python -m course_lib book|grade``)

and the helpers of the chapters that need them: ``sizing`` (01: parameter counts, FLOPs, power
laws), ``neural`` (02), ``gradients`` (03: gradient checks, per-layer norms), ``optim`` (04: loss
surfaces, schedules), ``conv`` (05), ``sequences`` (06), ``attention`` (07), ``transformer``
(08: Keras layers reused by later chapters), ``transfer`` (09: few-shot splits, weight transfer by
name), ``language`` (10: the generated grammar corpus and its checker), ``rl`` (11: tabular MDPs,
vectorised episodes, tic-tac-toe), ``applications`` (12: generated ratings, audio and series),
``multiworker`` (13: launching workers on localhost), ``fault_tolerance`` (13: a Dropout whose random
state survives backup and restore), ``deployment`` (14: run records, checksums, a local serving
endpoint), ``chat_server`` (14: an OpenAI-compatible chat endpoint), ``responsible`` (15: generated lending data, attribution and fairness plots) and
``pathway`` (16: the course map, choosing a model).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: The course's GitHub repository (owner/name). Colab badges and the Colab bootstrap use it.
REPO = "ai-large-models-course/keras-course"

# Public names re-exported lazily, so ``import course_lib`` never imports TensorFlow by itself.
_EXPORTS = {
    "setup_notebook": "environment",
    "environment_report": "environment",
    "set_seed": "environment",
    "in_colab": "environment",
    "get_strategy": "distribute",
    "simulate_cpu_replicas": "distribute",
    "describe_strategy": "distribute",
    "global_batch_size": "distribute",
    "check_global_batch": "distribute",
    "load_digits": "data",
    "make_dataset": "data",
    "digits_datasets": "data",
    "load_sample_photos": "data",
    "load_image_dataset": "data",
    "load_generated": "data",
    "plot_history": "plots",
    "show_images": "plots",
    "plot_heatmap": "plots",
}

__all__ = ["REPO", "__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'course_lib' has no attribute {name!r}")
    return getattr(importlib.import_module(f"course_lib.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
