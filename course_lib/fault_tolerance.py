"""Fault tolerance (chapter 13): a Dropout layer whose random state survives a backup and restore.

Keras keeps a Dropout layer's random-number state in a ``SeedGenerator`` variable (a seed and a
counter that grows by one per mask drawn). That variable belongs to the model but is not one of its
weights, so ``save_weights`` — and with it ``keras.callbacks.BackupAndRestore`` and
``ModelCheckpoint`` — leaves it out: after a restore, Dropout starts its masks over from the first
one, and a resumed run no longer matches an uninterrupted one. :class:`ResumableDropout` writes that
state next to the layer's (empty) weights and reads it back, so a resumed run draws the masks the
uninterrupted run would have drawn.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from course_lib._validate import check_arguments

__all__ = ["ResumableDropout", "seed_states"]

_KEY = "seed_generator_state"


@keras.saving.register_keras_serializable(package="course_lib")
class ResumableDropout(keras.layers.Dropout):
    """``keras.layers.Dropout`` whose random state is saved with the weights and restored with them.

    Use it wherever a training run may be resumed from a backup (``BackupAndRestore``,
    ``ModelCheckpoint`` + ``load_weights``, ``model.save``/``load_model``) and must continue exactly
    as if it had never stopped. It behaves as ``Dropout`` in every other way (same arguments, same
    masks for the same seed).
    """

    def save_own_variables(self, store: Any) -> None:
        super().save_own_variables(store)
        store[_KEY] = np.asarray(keras.ops.convert_to_numpy(self.seed_generator.state))

    def load_own_variables(self, store: Any) -> None:
        keys = list(store.keys())
        if _KEY in keys:
            saved = np.asarray(store[_KEY])
            expected = tuple(self.seed_generator.state.shape)
            if saved.shape != expected:
                raise ValueError(f"layer {self.name!r}: expected a saved seed state of shape {expected}, "
                                 f"got shape {saved.shape}")
            self.seed_generator.state.assign(saved)
        # files written by a plain Dropout (no seed state) load too: only the state stays as it is
        super().load_own_variables({k: store[k] for k in keys if k != _KEY})


def seed_states(model: Any) -> dict[str, np.ndarray]:
    """Every random-number state of ``model``'s layers, by layer name (e.g. ``{"dropout": [seed, n]}``).

    ``n`` counts the masks drawn so far; two models that will draw the same masks next have equal states.

    Raises:
        ValueError: ``model`` is not a Keras model.
    """
    check_arguments(seed_states, locals(), model="own")
    if not isinstance(model, keras.Model):
        raise ValueError(f"expected a keras.Model, got {type(model).__name__}")
    states: dict[str, np.ndarray] = {}

    def visit(layers: Any) -> None:
        for layer in layers:
            generator = getattr(layer, "seed_generator", None)
            if generator is not None:
                states[layer.name] = np.asarray(keras.ops.convert_to_numpy(generator.state))
            visit(getattr(layer, "layers", []))

    visit(model.layers)
    return states
