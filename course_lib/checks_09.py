"""Checkers for the exercises of ``09_pretraining_and_finetuning``.

Usage in the notebook::

    from course_lib import checks_09 as checks
    checks.trainable_params(trainable_params)
"""

from __future__ import annotations

import math

from typing import Any, Callable

import numpy as np

from course_lib.exercises import (
    Case, ExerciseSet, Mistake, NotAttempted, Wrong, compare_with_reference, describe,
)

EXERCISES = ExerciseSet("09_pretraining_and_finetuning")
summary = EXERCISES.summary


def _callable(student: Any) -> None:
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")


def _call(student: Callable[..., Any], *args: Any) -> Any:
    """The student's answer, NotAttempted for the stub, the exception object if it raises."""
    try:
        return student(*args)
    except NotImplementedError:
        raise NotAttempted from None
    except Exception as err:  # reported by the caller
        return err


# --- Exercise 1 ------------------------------------------------------------------------------

def _params(sizes: list[int], frozen: int, bias: bool = True, first: bool = True) -> tuple[int, int]:
    per_layer = [a * b + (b if bias else 0) for a, b in zip(sizes[:-1], sizes[1:])]
    if not 0 <= frozen <= len(per_layer):
        raise ValueError(f"frozen must be between 0 and {len(per_layer)}")
    cold = per_layer[:frozen] if first else per_layer[len(per_layer) - frozen:]
    return sum(per_layer) - sum(cold), sum(cold)


def _trainable_params(sizes: list[int], frozen: int) -> tuple[int, int]:
    return _params(sizes, frozen)


def _no_lower_check(sizes: list[int], frozen: int) -> tuple[int, int]:
    """The mistake: only ``frozen > layers`` is refused, so -1 slices as Python's "all but the last"."""
    per_layer = [a * b + b for a, b in zip(sizes[:-1], sizes[1:])]
    if frozen > len(per_layer):
        raise ValueError("too many")
    return sum(per_layer) - sum(per_layer[:frozen]), sum(per_layer[:frozen])


def _shifted(sizes: list[int], frozen: int, by: int) -> tuple[int, int]:
    n = len(sizes) - 1
    return _params(sizes, min(max(frozen + by, 0), n)) if 0 <= frozen <= n else _params(sizes, frozen)


@EXERCISES.exercise(1, "count the trainable parameters after freezing")
def trainable_params(student: Any) -> str:
    """``trainable_params(sizes, frozen)`` -> (trainable, non_trainable) of an MLP with the first
    ``frozen`` Dense layers frozen; ValueError if ``frozen`` is not between 0 and the number of layers."""
    cases = [
        Case(([64, 256, 64, 10], 2)), Case(([64, 256, 64, 10], 0)), Case(([64, 256, 64, 10], 3)),
        Case(([8, 4, 2], 1)), Case(([100, 10], 1)), Case(([5, 7, 3, 2, 4], 2)), Case(([5, 7, 3, 2, 4], 1)),
        Case(([8, 4, 2], 3)), Case(([8, 4, 2], -1)),
    ]
    mistakes = [
        Mistake(lambda s, f: _params(s, f, bias=False),
                "the biases are missing: a Dense layer from a to b units has a·b weights *plus* b biases"),
        Mistake(lambda s, f: _params(s, f, first=False),
                "you froze the *last* layers: freezing an encoder keeps the first layers fixed and trains "
                "the ones near the output"),
        Mistake(lambda s, f: _params(s, f)[::-1],
                "the pair is swapped: return (trainable, non_trainable)"),
        Mistake(lambda s, f: _shifted(s, f, 1),
                "off by one: you froze one layer too many (the input size is not a layer; "
                "`sizes` of length L + 1 describes L Dense layers)"),
        Mistake(lambda s, f: _shifted(s, f, -1),
                "off by one: you froze one layer too few — the first `frozen` Dense layers are frozen"),
        Mistake(lambda s, f: (_params(s, f)[0], sum(_params(s, 0))),
                "the second number is the *frozen* parameters only, not the whole model"),
        Mistake(_no_lower_check,
                "a negative `frozen` must raise ValueError too: per_layer[:-1] would silently mean "
                "\"all but the last layer\" — check 0 <= frozen <= number of layers"),
    ]
    return compare_with_reference(student, _trainable_params, cases, mistakes, name="trainable_params")


# --- Exercise 2 ------------------------------------------------------------------------------

def _mask_patches(images: Any, rows: Any, cols: Any, size: int, extra: int = 0, swap: bool = False,
                  invert: bool = False, first_only: bool = False,
                  strict: bool = False) -> tuple[np.ndarray, np.ndarray]:
    images = np.asarray(images, dtype=float)
    n, h, w = images.shape
    rows, cols = np.asarray(rows), np.asarray(cols)
    if swap:
        rows, cols = cols, rows
    mask = np.zeros_like(images)
    for i in range(n):
        r, c = (rows[0], cols[0]) if first_only else (rows[i], cols[i])
        if r < 0 or c < 0 or r + size > h or c + size > w:
            raise ValueError("patch outside the image")
        if strict and (r + size >= h or c + size >= w):   # the mistake: a patch touching the edge refused
            raise ValueError("patch outside the image")
        mask[i, r:r + size + extra, c:c + size + extra] = 1.0
    if invert:
        mask = 1.0 - mask
    return images * (1.0 - mask), mask


def _mask_cases() -> list[Case]:
    rng = np.random.default_rng(909)   # a local generator: the student's global state is untouched
    cases = []
    images = rng.random((3, 6, 7))
    cases.append(Case((images, np.array([3, 0, 1]), np.array([2, 4, 0]), 3)))   # touching the bottom, right edges
    for n, h, w, size in [(4, 8, 8, 3), (3, 6, 9, 2), (5, 8, 8, 4), (2, 5, 7, 1), (3, 7, 5, 3)]:
        images = rng.random((n, h, w))
        rows, cols = rng.integers(0, h - size + 1, n), rng.integers(0, w - size + 1, n)
        cases.append(Case((images, rows, cols, size)))
    images = rng.random((2, 6, 6))
    cases.append(Case((images, np.array([1, 4]), np.array([0, 2]), 3)))   # runs past the bottom edge
    return cases


@EXERCISES.exercise(2, "mask square patches for the pretext task")
def mask_patches(student: Any) -> str:
    """``mask_patches(images, rows, cols, size)`` -> (masked, mask): hide the size×size patch at
    (rows[i], cols[i]) of image i; mask is 1.0 at hidden pixels; ValueError for a patch past an edge."""
    _callable(student)
    cases = _mask_cases()
    images, rows, cols, size = cases[0].args
    before = images.copy()
    got = _call(student, images, rows, cols, size)
    if not np.array_equal(images, before):
        raise Wrong("your function changed the images it was given: work on a copy "
                    "(e.g. images * (1 - mask)) — the pretext task needs the originals as targets")
    if not isinstance(got, Exception) and not (isinstance(got, (tuple, list)) and len(got) == 2):
        raise Wrong(f"mask_patches should return a pair (masked, mask), got {describe(got)}")
    mistakes = [
        Mistake(lambda x, r, c, s: _mask_patches(x, r, c, s, extra=1),
                "off by one: the patch covers rows r … r + size − 1 (slice r:r + size), you hid size + 1"),
        Mistake(lambda x, r, c, s: _mask_patches(x, r, c, s, extra=-1),
                "off by one: the patch covers rows r … r + size − 1 (slice r:r + size), you hid size − 1"),
        Mistake(lambda x, r, c, s: _mask_patches(x, r, c, s, strict=True),
                "a patch touching the edge fits: the square covers rows r … r + size − 1, so it is inside "
                "when r + size <= height (and c + size <= width) — raise only when r + size > height"),
        Mistake(lambda x, r, c, s: _mask_patches(x, r, c, s, swap=True),
                "rows and columns are swapped: images are (n, height, width), so rows index axis 1 and "
                "columns axis 2"),
        Mistake(lambda x, r, c, s: _mask_patches(x, r, c, s, invert=True),
                "the mask is inverted: it should be 1.0 at the *hidden* pixels, and masked = images·(1 − mask)"),
        Mistake(lambda x, r, c, s: _mask_patches(x, r, c, s, first_only=True),
                "every image got the first image's patch: use rows[i], cols[i] for image i"),
        Mistake(lambda x, r, c, s: (_mask_patches(x, r, c, s)[1] * np.asarray(x, float), _mask_patches(x, r, c, s)[1]),
                "you kept only the patch: the masked image hides the patch and keeps everything else, "
                "images · (1 − mask)"),
    ]
    return compare_with_reference(student, _mask_patches, cases, mistakes, name="mask_patches")


# --- Exercise 3 ------------------------------------------------------------------------------

def _transfer_by_name(source: dict, target: dict) -> dict:
    for name, arrays in target.items():
        if name in source:
            if len(source[name]) != len(arrays):
                raise ValueError(f"layer {name!r}: different number of weights")
            for s, t in zip(source[name], arrays):
                if np.shape(s) != np.shape(t):
                    raise ValueError(f"layer {name!r}: shape {np.shape(s)} vs {np.shape(t)}")
    return {name: [np.array(a, copy=True) for a in (source[name] if name in source else arrays)]
            for name, arrays in target.items()}


def _state(rng: np.random.Generator, spec: dict[str, list[tuple[int, ...]]]) -> dict:
    return {name: [rng.normal(size=s) for s in shapes] for name, shapes in spec.items()}


def _copy_state(state: dict) -> dict:
    return {k: [np.array(a, copy=True) for a in v] for k, v in state.items()}


def _same_state(a: Any, b: dict) -> bool:
    if not isinstance(a, dict) or list(a) != list(b) and set(a) != set(b):
        return False
    return all(
        isinstance(a[k], (list, tuple)) and len(a[k]) == len(b[k])
        and all(np.shape(x) == np.shape(y) and np.allclose(x, y) for x, y in zip(a[k], b[k]))
        for k in b
    )


def _by_position(source: dict, target: dict) -> dict:
    """The typical mistake: the k-th layer of the source into the k-th layer of the target."""
    values = list(source.values())
    out = {}
    for k, (name, arrays) in enumerate(target.items()):
        cand = values[k] if k < len(values) else None
        ok = cand is not None and len(cand) == len(arrays) and all(np.shape(a) == np.shape(b) for a, b in zip(cand, arrays))
        out[name] = [np.array(a, copy=True) for a in (cand if ok else arrays)]
    return out


def _transfer_cases() -> list[tuple[dict, dict, bool]]:
    rng = np.random.default_rng(99)
    enc = {"hidden": [(64, 32), (32,)], "embed": [(32, 16), (16,)]}
    cases = []
    # 1: two layers of the same shapes, listed in another order: copying by position swaps them silently
    src = _state(rng, {"hidden": [(32, 32), (32,)], "embed": [(32, 32), (32,)]})
    tgt = _state(rng, {"embed": [(32, 32), (32,)], "hidden": [(32, 32), (32,)], "head": [(32, 10), (10,)]})
    cases.append((src, tgt, False))
    # 2: the source has an extra layer (its pretext decoder) the target does not have
    src = _state(rng, {**enc, "decoder": [(16, 64), (64,)]})
    tgt = _state(rng, {**enc, "head": [(16, 2), (2,)]})
    cases.append((src, tgt, False))
    # 3: a shape mismatch in the *second* layer: must raise before anything is copied
    src = _state(rng, {"hidden": [(64, 32), (32,)], "head": [(16, 10), (10,)]})
    tgt = _state(rng, {"hidden": [(64, 32), (32,)], "head": [(16, 2), (2,)]})
    cases.append((src, tgt, True))
    # 4: a transposed kernel with the same number of elements
    src = _state(rng, {"embed": [(16, 32), (16,)]})
    tgt = _state(rng, {"embed": [(32, 16), (16,)]})
    cases.append((src, tgt, True))
    # 5: the target's layer has no bias (Dense(use_bias=False)): 2 arrays in the source, 1 in the target
    src = _state(rng, {"hidden": [(64, 32), (32,)], "embed": [(32, 16), (16,)]})
    tgt = _state(rng, {"hidden": [(64, 32), (32,)], "embed": [(32, 16)]})
    cases.append((src, tgt, True))
    return cases


def _count_mismatch(source: dict, target: dict) -> str | None:
    for name, arrays in target.items():
        if name in source and len(source[name]) != len(arrays):
            return f"layer {name!r} has {len(source[name])} arrays in the source but {len(arrays)} in the target"
    return None


def _shared_with_source(got: dict, source: dict) -> str | None:
    """The name of a result layer that holds one of the source's own arrays (not a copy), if any."""
    for name, arrays in got.items():
        for a in arrays if isinstance(arrays, (list, tuple)) else ():
            if isinstance(a, np.ndarray) and any(np.shares_memory(a, s) for s in source.get(name, ())):
                return name
    return None


@EXERCISES.exercise(3, "transfer weights by layer name, checking shapes")
def transfer_by_name(student: Any) -> str:
    """``transfer_by_name(source, target)`` -> a new {name: [arrays]}: target's layers, with source's
    arrays where the names match; ValueError (and nothing changed) when a shape differs."""
    _callable(student)
    for i, (src, tgt, must_raise) in enumerate(_transfer_cases(), start=1):
        src_copy, tgt_copy = _copy_state(src), _copy_state(tgt)
        got = _call(student, src, tgt)
        if not _same_state(tgt, tgt_copy):
            raise Wrong(f"case {i}: your function changed the `target` dict it was given: build and return "
                        "a new dict (a failed transfer must leave the model as it was)")
        if not _same_state(src, src_copy):
            raise Wrong(f"case {i}: your function changed the `source` dict")
        if must_raise:
            if isinstance(got, ValueError):
                continue
            counts = _count_mismatch(src, tgt)
            if isinstance(got, Exception):
                what = "different numbers of arrays" if counts else "the shape mismatch"
                raise Wrong(f"case {i}: expected a ValueError for {what}, got {type(got).__name__}: {got}")
            if counts:
                raise Wrong(f"case {i}: {counts} (e.g. a Dense layer without bias), and no ValueError was raised: "
                            "zip() stops at the shorter list, so compare len(source[name]) with len(target[name]) "
                            "first and raise ValueError")
            raise Wrong(f"case {i}: a weight was copied into one of another shape without a ValueError: check np.shape(s) == np.shape(t) for every array "
                        "and raise ValueError — reshaping or slicing (as source 001 §4.4 does) scrambles the weights")
        if isinstance(got, Exception):
            raise Wrong(f"case {i}: your code raised {type(got).__name__}: {got}")
        expected = _transfer_by_name(src, tgt)
        if not isinstance(got, dict):
            raise Wrong(f"case {i}: expected a dict {{layer name: list of arrays}}, got {describe(got)}")
        if set(got) - set(tgt):
            raise Wrong(f"case {i}: the result has layers the target does not have ({sorted(set(got) - set(tgt))}): "
                        "a source layer without a namesake in the target (like a pretext decoder) is left out")
        if set(tgt) - set(got):
            raise Wrong(f"case {i}: layers of the target are missing from the result ({sorted(set(tgt) - set(got))}): "
                        "keep the target's own weights for layers the source does not have (e.g. a new head)")
        if not _same_state(got, expected):
            if _same_state(got, _by_position(src, tgt)):
                raise Wrong(f"case {i}: you matched layers by position: match them by *name* "
                            "(source[name] for each name of the target) — models list layers in different orders")
            raise Wrong(f"case {i}: the arrays differ from the expected ones: each layer of the target whose "
                        "name is in the source takes the source's arrays, the others keep their own")
        shared = _shared_with_source(got, src)
        if shared is not None:
            raise Wrong(f"case {i}: layer {shared!r} of the result holds the source's own arrays, not copies: "
                        "copy them (np.array(a, copy=True) or a.copy()), or changing one model's weights "
                        "would change the other's")
    return ("correct on 5 cases (matching names, extra layers on either side, two shape mismatches, "
            "a different number of arrays)")


# --- Exercise 4 ------------------------------------------------------------------------------

def _warmup_linear(step: int, peak: float, warmup: int, total: int) -> float:
    if step < warmup:
        return peak * step / warmup
    return peak * max(0.0, (total - step) / max(1, total - warmup))


@EXERCISES.exercise(4, "a warm-up then linear-decay learning rate")
def warmup_linear_lr(student: Any) -> str:
    """``warmup_linear_lr(step, peak_lr, warmup_steps, total_steps)`` -> float: linear warm-up from 0 to
    the peak over ``warmup_steps``, then linear decay to 0 at ``total_steps``, 0 afterwards."""
    cases = [Case((s, 1e-3, 10, 100)) for s in (0, 5, 9, 10, 55, 99, 100, 130)] + [
        Case((0, 2e-5, 0, 50)), Case((20, 2e-5, 0, 50)), Case((3, 5e-5, 4, 8)),
    ]
    mistakes = [
        Mistake(lambda s, p, w, t: p * min(1.0, (s + 1) / w) if s < w else _warmup_linear(s, p, w, t),
                "off by one in the warm-up: step 0 has learning rate 0, and it reaches the peak at step "
                "warmup_steps — use step / warmup_steps"),
        Mistake(lambda s, p, w, t: p * max(0.0, (t - s) / t),
                "there is no warm-up: for step < warmup_steps the rate rises linearly from 0, "
                "peak · step / warmup_steps"),
        Mistake(lambda s, p, w, t: p * s / w if s < w else p * max(0.0, (t - s) / t),
                "the decay starts from the wrong point: after warm-up it falls from the peak at step "
                "warmup_steps to 0 at total_steps, i.e. (total − step) / (total − warmup)"),
        Mistake(lambda s, p, w, t: p * s / w if s < w else p * (t - s) / max(1, t - w),
                "after total_steps the rate went negative: clip it at 0 (max(0, …))"),
        Mistake(lambda s, p, w, t: p * s / w if s < w else p,
                "the rate never decays: after warm-up it falls linearly to 0 at total_steps"),
        Mistake(lambda s, p, w, t: p * s / w if s < w else p * max(0.0, (t + w - s) / t),
                "the decay ends warmup_steps too late: it must reach 0 exactly at total_steps"),
        Mistake(lambda s, p, w, t: p * (s // w) if s < w else _warmup_linear(s, p, w, t),
                "integer division in the warm-up: step // warmup_steps is 0 for every warm-up step; "
                "use true division, step / warmup_steps"),
        Mistake(lambda s, p, w, t: p * (s // w) if s < w else p * ((t - s) // max(1, t - w) if s < t else 0),
                "integer division: step // warmup_steps and (total − step) // (total − warmup) round down to "
                "0 or 1; use true division"),
        Mistake(lambda s, p, w, t: p * s / w if s < w else
                p * 0.5 * (1 + math.cos(math.pi * min(1.0, (s - w) / max(1, t - w)))),
                "that is a cosine decay; this schedule falls *linearly* from the peak to 0, "
                "peak · (total − step) / (total − warmup)"),
    ]
    return compare_with_reference(student, _warmup_linear, cases, mistakes, name="warmup_linear_lr", rtol=1e-6, atol=1e-12)


# --- Exercise 5 ------------------------------------------------------------------------------

def _ex5_model(backbone_name: str = "backbone") -> Any:
    """A small classifier, ``backbone`` (two Dense layers) plus ``head``, already compiled and trained
    one step — like a model you fine-tune, whose training step Keras has already built."""
    import keras

    def dense(units: int, name: str, seed: int, activation: str | None = None) -> Any:
        return keras.layers.Dense(units, activation=activation, name=name,
                                  kernel_initializer=keras.initializers.GlorotUniform(seed=seed))

    backbone = keras.Sequential([keras.Input((6,)), dense(8, "hidden", 1, "relu"), dense(4, "embed", 2)],
                                name=backbone_name)
    model = keras.Sequential([keras.Input((6,)), backbone, dense(3, "head", 3)], name="classifier")
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _ex5_data()
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    return model


def _ex5_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(95)
    return rng.normal(size=(16, 6)).astype("float32"), rng.integers(0, 3, 16).astype("int32")


def _weights(layer: Any) -> list[np.ndarray]:
    return [np.array(w) for w in layer.get_weights()]


@EXERCISES.exercise(5, "freeze a backbone and recompile (Keras)")
def freeze_backbone(student: Any) -> str:
    """``freeze_backbone(model, backbone, learning_rate)``: freeze the layer named ``backbone``, compile
    again with Adam(learning_rate) and a from-logits sparse cross-entropy, return the model."""
    _callable(student)
    fixed = 0
    for name, rate in (("backbone", 0.01), ("encoder", 0.003)):     # every argument matters
        fixed = _check_freeze(student, name, rate)
    return (f"backbone frozen ({fixed} parameters), head trainable (15), one training step moved only the head "
            "(2 cases: backbones named 'backbone' and 'encoder', learning rates 0.01 and 0.003)")


def _check_freeze(student: Any, name: str, rate: float) -> int:
    from course_lib.transfer import parameter_counts

    model = _ex5_model(name)
    backbone, head = model.get_layer(name), model.get_layer("head")
    got = _call(student, model, name, rate)
    if isinstance(got, Exception):
        raise Wrong(f"freeze_backbone(model, {name!r}, {rate}) raised {type(got).__name__}: {got}")
    if got is None:
        raise Wrong("freeze_backbone returned None: return the model (the same object is fine)")
    if got is not model:
        raise Wrong(f"return the model you were given, after freezing and compiling it; got {describe(got)}")
    if not head.trainable:
        raise Wrong("the head is frozen too: freeze only the backbone (model.get_layer(backbone).trainable = False) "
                    "— with model.trainable = False nothing would learn")
    if backbone.trainable:
        frozen = [layer.name for layer in backbone.layers if not layer.trainable]
        if frozen:
            raise Wrong(f"you froze only {frozen} inside the backbone: set trainable = False on the backbone "
                        "layer itself, which freezes all its layers")
        raise Wrong("the backbone is still trainable: model.get_layer(backbone).trainable = False")
    trainable, fixed = parameter_counts(model)
    if trainable != 4 * 3 + 3:
        raise Wrong(f"{trainable} trainable parameters; only the head's 15 (4·3 weights + 3 biases) should be")
    optimizer = getattr(model, "optimizer", None)
    if type(optimizer).__name__ == "SGD":
        raise Wrong("the model still has the optimizer of its first compile (SGD): compile again after freezing, "
                    "with keras.optimizers.Adam(learning_rate) — the model's training step, built when it was "
                    "compiled and trained, keeps updating the layers that were trainable then")
    if optimizer is None or type(optimizer).__name__ != "Adam":
        raise Wrong(f"compile with keras.optimizers.Adam(learning_rate), got {type(optimizer).__name__}")
    lr = float(np.asarray(optimizer.learning_rate))
    if not np.isclose(lr, rate):
        raise Wrong(f"the optimizer's learning rate is {lr:g}, expected the learning_rate argument, {rate}")
    loss = getattr(model, "loss", None)
    config = loss.get_config() if hasattr(loss, "get_config") else {}
    if not config.get("from_logits", False):
        raise Wrong(f"the loss must be SparseCategoricalCrossentropy(from_logits=True): the head outputs logits "
                    f"(got {loss!r})")
    before_backbone, before_head = _weights(backbone), _weights(head)
    x, y = _ex5_data()
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    if any(not np.array_equal(a, b) for a, b in zip(before_backbone, _weights(backbone))):
        raise Wrong("training still changed the backbone's weights: set trainable = False, *then* compile — "
                    "Keras keeps the training step it built until the model is compiled again")
    if all(np.array_equal(a, b) for a, b in zip(before_head, _weights(head))):
        raise Wrong("training did not change the head: only the backbone should be frozen")
    return fixed
