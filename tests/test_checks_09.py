"""The chapter-09 checkers reject the typical mistakes with specific hints."""

import numpy as np
import pytest
from nbutils import assert_rejects, load_tagged

from course_lib import checks_09 as checks

SOLUTIONS = load_tagged("09_pretraining_and_finetuning")


# --- Exercise 1 -------------------------------------------------------------------------------

def _layers(sizes):
    return [a * b + b for a, b in zip(sizes[:-1], sizes[1:])]


def _counts(sizes, frozen, bias=True, last=False):
    per = [a * b + (b if bias else 0) for a, b in zip(sizes[:-1], sizes[1:])]
    if not 0 <= frozen <= len(per):
        raise ValueError("bad frozen")
    cold = per[len(per) - frozen:] if last else per[:frozen]
    return sum(per) - sum(cold), sum(cold)


def _upper_check_only(sizes, frozen):
    per = _layers(sizes)
    if frozen > len(per):
        raise ValueError("too many layers frozen")
    return sum(per) - sum(per[:frozen]), sum(per[:frozen])


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda s, f: _counts(s, f, bias=False), "biases are missing"),
        (lambda s, f: _counts(s, f, last=True), "*last* layers"),
        (lambda s, f: _counts(s, f)[::-1], "swapped"),
        (lambda s, f: _counts(s, min(f + 1, len(s) - 1)), "one layer too many"),
        (lambda s, f: (_counts(s, f)[0], sum(_layers(s))), "not the whole model"),
        (lambda s, f: (sum(_layers(s)) - sum(_layers(s)[:f]), sum(_layers(s)[:f])), "ValueError"),
        (_upper_check_only, "a negative `frozen` must raise ValueError"),
    ],
)
def test_trainable_params_rejects(wrong, hint):
    assert_rejects(checks.trainable_params, wrong, hint)


# --- Exercise 2 -------------------------------------------------------------------------------

def _mask(images, rows, cols, size, extra=0, swap=False, invert=False, inplace=False):
    images = np.asarray(images, float) if not inplace else images
    n, h, w = images.shape
    if swap:
        rows, cols = cols, rows
    mask = np.zeros_like(images)
    for i in range(n):
        r, c = rows[i], cols[i]
        if r + size > h or c + size > w:
            raise ValueError("outside")
        mask[i, r:r + size + extra, c:c + size + extra] = 1.0
    if invert:
        mask = 1.0 - mask
    if inplace:
        images *= 1.0 - mask
        return images, mask
    return images * (1.0 - mask), mask


def _no_check(images, rows, cols, size):
    images = np.asarray(images, float)
    mask = np.zeros_like(images)
    for i in range(len(images)):
        mask[i, rows[i]:rows[i] + size, cols[i]:cols[i] + size] = 1.0
    return images * (1 - mask), mask


def _edge_refused(images, rows, cols, size):
    """Off by one in the bounds check: ``>=`` refuses a patch whose last row or column is the edge."""
    images = np.asarray(images, float)
    n, h, w = images.shape
    mask = np.zeros_like(images)
    for i in range(n):
        if rows[i] + size >= h or cols[i] + size >= w:
            raise ValueError("patch does not fit")
        mask[i, rows[i]:rows[i] + size, cols[i]:cols[i] + size] = 1.0
    return images * (1 - mask), mask


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, r, c, s: _mask(x, r, c, s, extra=1), "you hid size + 1"),
        (lambda x, r, c, s: _mask(x, r, c, s, swap=True), "rows and columns are swapped"),
        (lambda x, r, c, s: _mask(x, r, c, s, invert=True), "the mask is inverted"),
        (lambda x, r, c, s: _mask(x, r, c, s, inplace=True), "changed the images"),
        (lambda x, r, c, s: _mask(x, r, c, s)[0], "should return a pair"),
        (_no_check, "expected it to raise ValueError"),
        (_edge_refused, "a patch touching the edge fits"),
    ],
)
def test_mask_patches_rejects(wrong, hint):
    assert_rejects(checks.mask_patches, wrong, hint)


# --- Exercise 3 -------------------------------------------------------------------------------

def _by_position(source, target):
    return {name: [np.array(a) for a in arrays] for name, arrays in zip(target, source.values())} | {
        name: [np.array(a) for a in target[name]] for name in list(target)[len(source):]}


def _no_shape_check(source, target):
    return {name: [np.array(a) for a in source.get(name, arrays)] for name, arrays in target.items()}


def _in_place(source, target):
    for name in target:
        if name in source:
            for s, t in zip(source[name], target[name]):
                if np.shape(s) != np.shape(t):
                    raise ValueError("shape")
            target[name] = source[name]
    return target


def _union(source, target):
    out = {k: [np.array(a) for a in v] for k, v in target.items()}
    for name, arrays in source.items():
        if name in target:
            for s, t in zip(arrays, target[name]):
                if np.shape(s) != np.shape(t):
                    raise ValueError("shape")
        out[name] = [np.array(a) for a in arrays]
    return out


def _only_shared(source, target):
    for name in target:
        if name in source:
            for s, t in zip(source[name], target[name]):
                if np.shape(s) != np.shape(t):
                    raise ValueError("shape")
    return {name: [np.array(a) for a in source[name]] for name in target if name in source}


def _resize_like_source(source, target):
    return {name: [np.resize(s, np.shape(t)) for s, t in zip(source[name], arrays)] if name in source
            else [np.array(a) for a in arrays] for name, arrays in target.items()}


def _zip_without_count_check(source, target):
    """Checks shapes pair by pair with zip(), which stops at the shorter list."""
    for name in target:
        if name in source:
            for s, t in zip(source[name], target[name]):
                if np.shape(s) != np.shape(t):
                    raise ValueError("shape")
    return {name: [np.array(a) for a in source.get(name, arrays)] for name, arrays in target.items()}


def _no_copies(source, target):
    """Right layers and checks, but the source's own arrays go into the result."""
    for name in target:
        if name in source:
            if len(source[name]) != len(target[name]):
                raise ValueError("count")
            for s, t in zip(source[name], target[name]):
                if np.shape(s) != np.shape(t):
                    raise ValueError("shape")
    return {name: list(source[name]) if name in source else [np.array(a) for a in arrays]
            for name, arrays in target.items()}


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_by_position, "by position"),
        (_zip_without_count_check, "zip() stops at the shorter list"),
        (_no_copies, "not copies"),
        (_no_shape_check, "without a ValueError"),
        (_resize_like_source, "without a ValueError"),
        (_in_place, "changed the `target`"),
        (_union, "layers the target does not have"),
        (_only_shared, "layers of the target are missing"),
    ],
)
def test_transfer_by_name_rejects(wrong, hint):
    assert_rejects(checks.transfer_by_name, wrong, hint)


# --- Exercise 4 -------------------------------------------------------------------------------

def _ref(s, p, w, t):
    if s < w:
        return p * s / w
    return p * max(0.0, (t - s) / max(1, t - w))


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda s, p, w, t: p * min(1.0, (s + 1) / w) if s < w else _ref(s, p, w, t), "off by one in the warm-up"),
        (lambda s, p, w, t: p * max(0.0, (t - s) / t), "there is no warm-up"),
        (lambda s, p, w, t: p * s / w if s < w else p * max(0.0, (t - s) / t), "the wrong point"),
        (lambda s, p, w, t: p * s / w if s < w else p * (t - s) / max(1, t - w), "went negative"),
        (lambda s, p, w, t: p * s / w if s < w else p, "never decays"),
        (lambda s, p, w, t: 0.5 * _ref(s, p, w, t), "expected"),
        (lambda s, p, w, t: p * (s // w) if s < w else _ref(s, p, w, t), "integer division"),
        (lambda s, p, w, t: p * s / w if s < w else
         p * 0.5 * (1 + np.cos(np.pi * min(1.0, (s - w) / (t - w)))), "cosine decay"),
    ],
)
def test_warmup_linear_lr_rejects(wrong, hint):
    assert_rejects(checks.warmup_linear_lr, wrong, hint)


def test_student_exception_is_reported_not_raised():
    def broken(sizes, frozen):
        return undefined_name  # noqa: F821

    result = checks.trainable_params.evaluate(broken)
    assert result.status == "failed" and "NameError" in result.message


# --- Exercise 5 -------------------------------------------------------------------------------

def _freezer(freeze="backbone", recompile=True, loss_from_logits=True, lr=None):
    import keras

    def freeze_backbone(model, backbone, learning_rate):
        if freeze == "backbone":
            model.get_layer(backbone).trainable = False
        elif freeze == "model":
            model.trainable = False
        elif freeze == "first inner layer":
            model.get_layer(backbone).layers[0].trainable = False
        if recompile:
            loss = (keras.losses.SparseCategoricalCrossentropy(from_logits=True) if loss_from_logits
                    else "sparse_categorical_crossentropy")
            model.compile(optimizer=keras.optimizers.Adam(lr or learning_rate), loss=loss)
        return model
    return freeze_backbone


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_freezer(recompile=False), "compile again after freezing"),
        (_freezer(freeze="model"), "the head is frozen too"),
        (_freezer(freeze="first inner layer"), "you froze only ['hidden']"),
        (_freezer(freeze="nothing"), "the backbone is still trainable"),
        (_freezer(loss_from_logits=False), "from_logits=True"),
        (_freezer(lr=1e-3), "expected the learning_rate argument"),
        (lambda model, backbone, learning_rate: None, "returned None"),
    ],
)
def test_freeze_backbone_rejects(wrong, hint):
    assert_rejects(checks.freeze_backbone, wrong, hint)
