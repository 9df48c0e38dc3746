"""Pretraining and fine-tuning (chapter 09): few-label subsets, parameter counts, weight transfer.

- :func:`few_shot_indices` -- a stratified, reproducible choice of ``per_class`` examples per class
  (the "few labels" of a fine-tuning experiment);
- :func:`parameter_counts` -- trainable and non-trainable parameters of a Keras model or layer,
  the numbers that change when layers are frozen;
- :func:`transfer_weights` -- copy weights from one Keras model to another **by layer name**,
  checking every shape first and refusing a mismatch with a clear ``ValueError``
  (the correct version of what source 001 §4.4 attempts with slices of one flat vector);
- :func:`plot_regimes` -- test accuracy of several training regimes, as bars;
- :func:`pretrained_backbone` -- a real ImageNet backbone from ``keras.applications`` when its
  weights can be downloaded (or are cached), else ``None`` and the reason: never a hang offline.

The pretext task, the training regimes and the freezing itself are written in the chapter's
notebook, where students read them; this module holds what is reused or would clutter a cell.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from course_lib._validate import check_arguments
from course_lib.plots import finish_figure

__all__ = [
    "few_shot_indices", "parameter_counts", "transfer_weights", "plot_regimes", "pretrained_backbone",
]

#: ``keras.applications`` backbones that take pixels in [0, 255] and normalise them inside the model,
#: so one input pipeline serves them all.
BACKBONES = ("MobileNetV3Small", "MobileNetV3Large", "EfficientNetB0", "EfficientNetV2B0")


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"expected {name} to be an int >= {minimum}, got {value!r}")
    return int(value)


def few_shot_indices(labels: Any, per_class: int, seed: int = 0) -> np.ndarray:
    """Indices of ``per_class`` examples of every class, drawn without replacement from ``seed``.

    The result is sorted by class, then by the order of the draw: ``labels[idx]`` is
    ``[0]*per_class + [1]*per_class + ...``, the same on every machine.

    Args:
        labels: 1-D integer labels.
        per_class: how many examples of each class to keep (>= 1).
        seed: seed of the draw (a local generator: global random state is untouched).

    Raises:
        ValueError: if ``labels`` is not a 1-D integer array, or a class has fewer than
            ``per_class`` examples.
    """
    check_arguments(few_shot_indices, locals(), labels="array", per_class="own", seed="own")
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"expected 1-D integer labels, got shape {labels.shape} and dtype {labels.dtype}")
    per_class = _positive_int("per_class", per_class)
    seed = _positive_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if len(members) < per_class:
            raise ValueError(f"class {c} has only {len(members)} examples, fewer than per_class={per_class}")
        chosen.append(rng.choice(members, per_class, replace=False))
    return np.concatenate(chosen)


def parameter_counts(model: Any) -> tuple[int, int]:
    """``(trainable, non_trainable)`` scalar parameters of a built Keras model or layer.

    Frozen layers (``layer.trainable = False``) count as non-trainable, and so do the moving
    statistics of ``BatchNormalization``, which are updated without gradients.

    Raises:
        ValueError: if ``model`` has no ``trainable_weights`` (not a Keras layer) or is not built.
    """
    check_arguments(parameter_counts, locals(), model="own")
    if not hasattr(model, "trainable_weights") or not hasattr(model, "non_trainable_weights"):
        raise ValueError(f"expected a Keras model or layer, got {type(model).__name__}")
    if not getattr(model, "built", True):
        raise ValueError(f"{getattr(model, 'name', 'the model')} is not built yet: call it on data or build() it first")

    def count(weights: Sequence[Any]) -> int:
        return int(sum(int(np.prod(w.shape)) for w in weights))

    return count(model.trainable_weights), count(model.non_trainable_weights)


def _weighted_layers(model: Any) -> dict[str, Any]:
    """``{name: layer}`` of every layer holding weights, searching nested models too."""
    found: dict[str, Any] = {}

    def visit(layer: Any) -> None:
        inner = getattr(layer, "layers", None)
        if inner:  # a nested model (e.g. an encoder inside a classifier): its own layers count
            for sub in inner:
                visit(sub)
            return
        if layer.weights:
            if layer.name in found:
                raise ValueError(f"two layers are named {layer.name!r}: give the layers unique names")
            found[layer.name] = layer

    if not hasattr(model, "layers"):
        raise ValueError(f"expected a Keras model, got {type(model).__name__}")
    for layer in model.layers:
        visit(layer)
    return found


def transfer_weights(source: Any, target: Any, names: Sequence[str] | None = None) -> list[str]:
    """Copy weights from ``source`` to ``target``, layer by layer, matching layers **by name**.

    Every shape is checked before anything is copied, so a failed transfer leaves ``target``
    untouched. Layers of ``target`` with no namesake in ``source`` (a new head, say) keep their
    own weights. Both models must be built. Nested models (an encoder inside a classifier) are
    searched, so an encoder's layers can be matched inside a bigger model.

    Args:
        source: the model to copy from (e.g. a pretrained encoder).
        target: the model to copy into.
        names: copy only these layers (each must exist in both models); by default every
            layer name the two models share.

    Returns:
        The names of the layers copied, in ``target``'s order.

    Raises:
        ValueError: naming the layer and both shapes, when a weight's shape differs, a layer has a
            different number of weights, a requested name is missing, or no layer matches.
    """
    check_arguments(transfer_weights, locals(), source="own", target="own", names="own")
    src, tgt = _weighted_layers(source), _weighted_layers(target)
    if names is None:
        selected = [n for n in tgt if n in src]
        if not selected:
            raise ValueError(
                f"no layer names in common: source has {sorted(src)}, target has {sorted(tgt)}"
            )
    else:
        if isinstance(names, str):
            raise ValueError(f"expected a list of layer names, got the string {names!r}")
        selected = list(names)
        for n in selected:
            for side, layers in (("source", src), ("target", tgt)):
                if n not in layers:
                    raise ValueError(f"layer {n!r} not found in the {side}, which has {sorted(layers)}")
    plan = []
    for n in selected:
        s_weights, t_weights = src[n].get_weights(), tgt[n].weights
        if len(s_weights) != len(t_weights):
            raise ValueError(
                f"layer {n!r}: the source has {len(s_weights)} weight arrays, the target {len(t_weights)}"
            )
        for i, (s, t) in enumerate(zip(s_weights, t_weights)):
            if tuple(s.shape) != tuple(t.shape):
                label = getattr(t, "name", str(i)).split("/")[-1]
                raise ValueError(
                    f"layer {n!r}: weight {i} ({label}) has shape {tuple(s.shape)} in the source "
                    f"but {tuple(t.shape)} in the target; layers with other shapes cannot share weights"
                )
        plan.append((n, s_weights))
    for n, weights in plan:
        tgt[n].set_weights(weights)
    return [n for n, _ in plan]


# --- plots --------------------------------------------------------------------------------------


def _scores(results: Mapping[str, Any]) -> dict[str, float]:
    if not isinstance(results, Mapping) or not results:
        raise ValueError("expected a non-empty dict {regime: accuracy}")
    out = {}
    for name, value in results.items():
        v = float(value)
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"expected accuracies in [0, 1], got {v} for {name!r}")
        out[str(name)] = v
    return out


def plot_regimes(
    results: Mapping[str, Any],
    title: str | None = None,
    reference: float | None = None,
    reference_label: str = "",
    show: bool = True,
) -> Any:
    """Test accuracy of each regime as a horizontal bar, with its value written beside it.

    Args:
        results: ``{regime: accuracy in [0, 1]}``, drawn top to bottom in order.
        title: a title above the figure.
        reference: an optional accuracy drawn as a dashed vertical line (e.g. all labels).
        reference_label: the legend text of that line.

    Raises:
        ValueError: for an empty dict or an accuracy outside [0, 1].
    """
    check_arguments(plot_regimes, locals())
    import matplotlib.pyplot as plt

    scores = _scores(results)
    names = list(scores)
    fig, ax = plt.subplots(figsize=(6.4, 0.55 * len(names) + 1.2))
    y = np.arange(len(names))[::-1]
    ax.barh(y, [scores[n] for n in names], color=[f"C{i}" for i in range(len(names))])
    for yi, n in zip(y, names):
        ax.text(scores[n] + 0.01, yi, f"{scores[n]:.1%}", va="center", fontsize=9)
    ax.set_yticks(y, names)
    ax.set_xlim(0, 1.08)
    ax.set_xlabel("test accuracy")
    if reference is not None:
        ax.axvline(float(reference), color="k", linestyle="--", linewidth=1, label=reference_label or None)
        if reference_label:
            ax.legend(loc="lower right", fontsize=8)
    if title:
        ax.set_title(title)
    return finish_figure(fig, show)


def pretrained_backbone(name: str = "MobileNetV3Small", image_size: int = 96,
                        timeout_s: float = 20.0) -> tuple[Any, str]:
    """A frozen ImageNet backbone from ``keras.applications`` if its weights can be had, else ``None``.

    Keras downloads a backbone's weights once (a few MB) into ``~/.keras/models`` and reads them from
    there afterwards. Without a network and without that cached file the download fails; this
    function then returns ``(None, reason)`` instead of raising, and a network that drops packets
    cannot make it hang: every socket operation of the download is bounded by ``timeout_s``.

    Args:
        name: one of :data:`BACKBONES` (models that take pixels in [0, 255] and normalise them
            themselves).
        image_size: the side of the square RGB input, 32 to 512.
        timeout_s: the bound on each network operation, in seconds (0 < timeout_s <= 600).

    Returns:
        ``(backbone, message)``: the model without its classifier (``include_top=False``), global
        average pooling at the end and ``trainable=False``, with a one-line description; or
        ``(None, message)`` saying why the weights could not be had.

    Raises:
        ValueError: an unknown ``name``, or ``image_size`` / ``timeout_s`` out of range.
    """
    check_arguments(pretrained_backbone, locals(), name="own", image_size="own", timeout_s="own")
    if not isinstance(name, str) or name not in BACKBONES:
        raise ValueError(f"expected name to be one of {BACKBONES}, got {name!r}")
    image_size = _positive_int("image_size", image_size, minimum=32)
    if image_size > 512:
        raise ValueError(f"expected image_size to be an int in [32, 512], got {image_size!r}")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not 0 < timeout_s <= 600:
        raise ValueError(f"expected timeout_s to be a number of seconds in (0, 600], got {timeout_s!r}")
    import socket
    import warnings

    import keras

    constructor = getattr(keras.applications, name)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(float(timeout_s))
    try:
        with warnings.catch_warnings():  # "weights for input shape (224, 224) will be loaded": as intended
            warnings.filterwarnings("ignore", message=".*input_shape.*(undefined|non-square).*")
            backbone = constructor(input_shape=(image_size, image_size, 3), include_top=False,
                                   weights="imagenet", pooling="avg")
    except Exception as err:  # no network, a blocked host, a truncated download
        return None, (f"offline: the ImageNet weights of {name} could not be downloaded "
                      f"({type(err).__name__}: {str(err)[:200]})")
    finally:
        socket.setdefaulttimeout(previous)
    backbone.trainable = False
    return backbone, (f"{name} with ImageNet weights: {backbone.count_params():,} parameters, frozen, "
                      f"input {image_size}x{image_size}x3 in [0, 255], output {backbone.output_shape[-1]} features")
