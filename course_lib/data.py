"""Data that works offline: scikit-learn's digits and sample photos, the generated datasets in
``datasets/`` (checked against a sha256 manifest on load), and MNIST for online users.

Every array comes back as float32 in [0, 1] (images) or int32 (labels), with a fixed
train/validation/test split, so the same seed gives the same numbers on every machine.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from course_lib._validate import check_arguments

__all__ = [
    "DataIntegrityError", "ImageSplit", "load_digits", "load_image_dataset", "make_dataset",
    "digits_datasets", "load_sample_photos", "sha256_of", "read_manifest", "verify_file",
    "verify_datasets", "parse_table", "load_generated",
]

#: Where the generated datasets live: ``datasets/`` at the top of the repository.
DATASETS_DIR = Path(__file__).resolve().parents[1] / "datasets"
MANIFEST = "SHA256SUMS"

_LAYOUTS = ("flat", "image")


class DataIntegrityError(RuntimeError):
    """A dataset file is missing from the manifest or its sha256 does not match."""


@dataclass(frozen=True)
class ImageSplit:
    """Images and labels split into train/validation/test, plus where they came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    num_classes: int = 10

    def summary(self) -> str:
        """One line per part, e.g. ``train: x (1197, 64) float32, y (1197,) int32``."""
        lines = [f"{self.name}:"]
        for part in ("train", "val", "test"):
            x, y = getattr(self, f"x_{part}"), getattr(self, f"y_{part}")
            lines.append(f"  {part:<5}: x {x.shape} {x.dtype}, y {y.shape} {y.dtype}")
        return "\n".join(lines)


def _check_layout(layout: str) -> None:
    if layout not in _LAYOUTS:
        raise ValueError(f"expected layout to be one of {_LAYOUTS}, got {layout!r}")


def _shape(x: np.ndarray, layout: str) -> np.ndarray:
    side = int(round(np.sqrt(x[0].size)))
    if layout == "flat":
        return x.reshape(len(x), side * side)
    return x.reshape(len(x), side, side, 1)


def load_digits(layout: str = "flat", seed: int = 0) -> ImageSplit:
    """scikit-learn's 1,797 handwritten digits (8x8, 10 classes), scaled to [0, 1].

    The split is stratified and fixed by ``seed``: 1,197 train, 300 validation, 300 test.

    Args:
        layout: ``"flat"`` for vectors of 64 pixels, ``"image"`` for (8, 8, 1) images.
        seed: seed of the split.
    """
    check_arguments(load_digits, locals())
    _check_layout(layout)
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_load_digits()
    x = (bunch.images / 16.0).astype("float32")
    y = bunch.target.astype("int32")
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=300, stratify=y, random_state=seed
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=300, stratify=y_rest, random_state=seed
    )
    return ImageSplit(
        _shape(x_train, layout), y_train, _shape(x_val, layout), y_val,
        _shape(x_test, layout), y_test, name="digits (scikit-learn, 8x8)",
    )


def load_image_dataset(
    name: str = "digits", layout: str = "flat", online: bool = False
) -> ImageSplit:
    """Digits, or MNIST when ``name="mnist"`` and ``online=True``.

    MNIST comes through ``keras.datasets.mnist`` (which verifies the file's hash). If it cannot be
    had -- no network, or ``online=False`` -- this prints which data is used instead and falls back
    to :func:`load_digits`, so a notebook runs either way.
    """
    check_arguments(load_image_dataset, locals(), name="own")
    _check_layout(layout)
    if name not in ("digits", "mnist"):
        raise ValueError(f"expected name 'digits' or 'mnist', got {name!r}")
    if name == "digits":
        return load_digits(layout)
    if not online:
        print("MNIST needs online=True (it is downloaded); using scikit-learn digits (1,797 8x8 images).")
        return load_digits(layout)
    try:
        import keras

        (x, y), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as err:  # no network, proxy, bad hash ...
        print(f"MNIST could not be loaded ({type(err).__name__}); using scikit-learn digits instead.")
        return load_digits(layout)
    x = (x / 255.0).astype("float32")
    x_test = (x_test / 255.0).astype("float32")
    y, y_test = y.astype("int32"), y_test.astype("int32")
    print("Using MNIST (60,000 + 10,000 images, 28x28).")
    return ImageSplit(
        _shape(x[:-10000], layout), y[:-10000], _shape(x[-10000:], layout), y[-10000:],
        _shape(x_test, layout), y_test, name="MNIST (28x28)",
    )


def _as_arrays(part: Any, name: str) -> Any:
    """An array, or a tuple/dict of arrays, as NumPy arrays with a first (example) dimension.

    A list is one array (``np.asarray``), as before; a tuple or a dict holds several inputs/outputs.
    """
    if isinstance(part, (dict, tuple)):
        if not part:
            raise ValueError(f"expected {name} to be an array or a non-empty tuple/dict of arrays, got an empty one")
        if isinstance(part, dict):
            return {key: _as_arrays(value, f"{name}[{key!r}]") for key, value in part.items()}
        return tuple(_as_arrays(value, f"{name}[{i}]") for i, value in enumerate(part))
    array = np.asarray(part)
    if array.ndim == 0:
        raise ValueError(f"expected {name} to be an array with a first (example) dimension, got a scalar")
    return array


def _leaves(part: Any) -> list[tuple[str, np.ndarray]]:
    if isinstance(part, dict):
        return [(f"[{k!r}]", v) for k, v in part.items()]
    if isinstance(part, tuple):
        return [(f"[{i}]", v) for i, v in enumerate(part)]
    return [("", part)]


def make_dataset(
    x: Any, y: Any, global_batch: int, *, training: bool, seed: int = 0, strategy: Any = None
) -> Any:
    """A ``tf.data`` pipeline of *global* batches with cache and prefetch.

    Training pipelines shuffle (reproducibly, from ``seed``) and drop the last partial batch, so
    every global batch divides evenly across replicas. Evaluation pipelines keep every example:
    metrics are sums over examples, so an uneven last batch changes nothing there.

    Args:
        x, y: arrays with the same first dimension; either may also be a tuple or a dict of such arrays
            (a model with several inputs or outputs, e.g. ``{"user": users, "item": items}``).
        global_batch: examples per step, across all replicas.
        training: shuffle and drop the remainder.
        seed: shuffle seed.
        strategy: if given, ``global_batch`` must divide evenly across its replicas.
    """
    check_arguments(make_dataset, locals(), x="own", y="own", global_batch="own", training="own")
    import tensorflow as tf

    from course_lib.distribute import check_global_batch

    x, y = _as_arrays(x, "x"), _as_arrays(y, "y")
    lengths = {f"{name}{key}": len(a) for name, part in (("x", x), ("y", y)) for key, a in _leaves(part)}
    if len(set(lengths.values())) != 1:
        if len(lengths) == 2:
            raise ValueError(f"expected x and y with the same length, got {lengths['x']} and {lengths['y']}")
        listed = ", ".join(f"{key}: {n}" for key, n in lengths.items())
        raise ValueError(f"expected every array in x and y to have the same length, got {listed}")
    n = next(iter(lengths.values()))
    if isinstance(global_batch, bool) or not isinstance(global_batch, int) or global_batch < 1:
        raise ValueError(f"expected global_batch to be an int >= 1, got {global_batch!r}")
    if strategy is not None:
        check_global_batch(global_batch, strategy)
    if training and global_batch > n:
        raise ValueError(f"global batch {global_batch} is larger than the {n} training examples")
    ds = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if training:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(global_batch, drop_remainder=training)
    return ds.prefetch(tf.data.AUTOTUNE)


def digits_datasets(
    global_batch: int, layout: str = "flat", strategy: Any = None, seed: int = 0
) -> tuple[Any, Any, Any]:
    """Train, validation and test pipelines of the digits split, batched by ``global_batch``."""
    check_arguments(digits_datasets, locals())
    split = load_digits(layout)
    return (
        make_dataset(split.x_train, split.y_train, global_batch, training=True, seed=seed, strategy=strategy),
        make_dataset(split.x_val, split.y_val, global_batch, training=False, strategy=strategy),
        make_dataset(split.x_test, split.y_test, global_batch, training=False, strategy=strategy),
    )


def load_sample_photos() -> dict[str, np.ndarray]:
    """scikit-learn's two sample photos as uint8 arrays of shape (427, 640, 3): ``china``, ``flower``."""
    from sklearn.datasets import load_sample_images

    bunch = load_sample_images()
    return {Path(f).stem: img for f, img in zip(bunch.filenames, bunch.images)}


# --- generated datasets -------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    check_arguments(sha256_of, locals())
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _fix(path: Path, root: Path) -> str:
    """How to get a dataset file's right bytes back, whatever git's line-ending settings."""
    from course_lib.generators import GENERATORS

    name = Path(path).relative_to(root).parts[0]
    if name not in GENERATORS:
        return f"{name} is not a generated dataset: delete {Path(path).parent}, or add its generator to course_lib.generators"
    return f"regenerate it with `python -m course_lib datasets --regenerate {name}`"


def read_manifest(root: Path = DATASETS_DIR) -> dict[str, str]:
    """``{relative path: sha256}`` from ``datasets/SHA256SUMS`` (``sha256sum`` format).

    Raises:
        DataIntegrityError: the manifest is missing, or a line is not ``<64 hex digits>  <path>``
            (the message names the line and how to fix it).
    """
    check_arguments(read_manifest, locals(), root="own")
    manifest = Path(_check_path(root, "root")) / MANIFEST
    if not manifest.exists():
        raise DataIntegrityError(f"{manifest}: manifest not found")
    fix = (f"restore it with `git checkout -- {MANIFEST}` (in {manifest.parent}), or delete the line and run "
           f"`python -m course_lib datasets --regenerate NAME` for the dataset it named")
    try:
        text = manifest.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataIntegrityError(f"{manifest}: not UTF-8 text ({err}); {fix}") from None
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=1)
        digest, rel = (parts[0], parts[1].strip().lstrip("*")) if len(parts) == 2 else (parts[0], "")
        if (len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest) or not rel
                or rel.startswith("/") or ".." in Path(rel).parts or "\\" in rel):
            raise DataIntegrityError(
                f"{manifest}, line {number}: expected '<64 lowercase hex digits>  <relative path>', "
                f"got {line!r:.120}; {fix}")
        if rel in entries:
            raise DataIntegrityError(f"{manifest}, line {number}: {rel} is listed twice; {fix}")
        entries[rel] = digest
    return entries


def _check_path(path: Any, name: str) -> Path:
    if isinstance(path, Path):
        return path
    if not isinstance(path, str) or not path:
        raise TypeError(f"expected {name} to be a path (str or pathlib.Path), got {type(path).__name__} {path!r:.40}")
    return Path(path)


def verify_file(path: Path, root: Path = DATASETS_DIR) -> None:
    """Raise :class:`DataIntegrityError` naming the file unless its sha256 is the manifest's."""
    check_arguments(verify_file, locals(), path="own", root="own")
    path, root = _check_path(path, "path"), _check_path(root, "root")
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        raise ValueError(f"expected path to be inside root {root}, got {path}") from None
    expected = read_manifest(root).get(rel)
    if expected is None:
        raise DataIntegrityError(f"{path}: not listed in {root / MANIFEST}")
    if not path.exists():
        raise DataIntegrityError(f"{path}: missing; {_fix(path, root)}")
    content = path.read_bytes()
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected:
        if b"\r\n" in content and hashlib.sha256(content.replace(b"\r\n", b"\n")).hexdigest() == expected:
            raise DataIntegrityError(
                f"{path}: its line ends were changed to CRLF (git's core.autocrlf on Windows; the repository's "
                f".gitattributes marks datasets/ as -text to prevent it); {_fix(path, root)}, which writes "
                f"the exact bytes")
        # (wording kept: chapter 00 shows this message in a stored output; with .gitattributes,
        # `git checkout` restores the exact bytes even on a Windows autocrlf clone)
        raise DataIntegrityError(
            f"{path}: sha256 {actual[:12]}... does not match the manifest's {expected[:12]}...; the file "
            f"was changed or damaged. Restore it (git checkout -- {path.name}) or regenerate it with "
            f"`python -m course_lib datasets --regenerate {path.parent.name}`"
        )


def verify_datasets(root: Path = DATASETS_DIR) -> list[tuple[str, str, str]]:
    """Check every dataset file; one ``(file, status, fix)`` row each, never stopping at the first bad one.

    Status is ``ok``, ``missing``, ``damaged``, ``CRLF line ends``, ``not in manifest`` (a
    ``data.tsv`` the manifest does not list) or, for an unreadable manifest, ``bad manifest``.
    """
    check_arguments(verify_datasets, locals(), root="own")
    root = _check_path(root, "root")
    try:
        manifest = read_manifest(root)
    except DataIntegrityError as err:
        return [(MANIFEST, "bad manifest", str(err))]
    rows = []
    for rel in sorted(manifest):
        path = root / rel
        try:
            verify_file(path, root)
            rows.append((rel, "ok", ""))
        except DataIntegrityError as err:
            status = ("missing" if not path.exists() else "CRLF line ends" if "CRLF" in str(err) else "damaged")
            rows.append((rel, status, _fix(path, root)))
    for path in sorted(root.glob("*/data.tsv")):
        rel = path.relative_to(root).as_posix()
        if rel not in manifest:
            rows.append((rel, "not in manifest", _fix(path, root)))
    return rows


def parse_table(text: str) -> dict[str, np.ndarray]:
    """Columns of a tab-separated table with a header row; int, float or str arrays."""
    check_arguments(parse_table, locals(), text="own")
    rows = list(csv.reader(io.StringIO(text), delimiter="\t"))
    if not rows:
        raise ValueError("expected a table with a header row, got an empty text")
    header, body = rows[0], rows[1:]
    columns: dict[str, np.ndarray] = {}
    for j, name in enumerate(header):
        values = [r[j] for r in body]
        for kind in (np.int64, np.float64):
            try:
                columns[name] = np.array(values, dtype=kind)
                break
            except ValueError:
                continue
        else:
            columns[name] = np.array(values, dtype=str)
    return columns


def load_generated(name: str, root: Path | None = None) -> dict[str, np.ndarray]:
    """Load a generated dataset ``datasets/<name>/data.tsv`` after checking its sha256.

    Returns a dict of columns (numpy arrays). Each dataset's ``DATASHEET.md`` says what the
    columns mean. If the repository's ``datasets/`` folder is not there (the library was
    installed on its own), the data is regenerated in memory from ``course_lib.generators``.

    Raises:
        ValueError: for an unknown name.
        DataIntegrityError: naming the file, when it is not the file the manifest lists.
    """
    check_arguments(load_generated, locals(), name="own")
    from course_lib.generators import GENERATORS, render

    if name not in GENERATORS:
        raise ValueError(f"unknown dataset {name!r}; expected name to be one of {sorted(GENERATORS)}")
    root = Path(root) if root is not None else DATASETS_DIR
    if not (root / MANIFEST).exists():
        print(f"{root} not found: generating {name!r} in memory from course_lib.generators")
        return parse_table(render(name))
    path = root / name / "data.tsv"
    verify_file(path, root)
    return parse_table(path.read_text(encoding="utf-8"))
