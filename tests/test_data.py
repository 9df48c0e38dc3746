"""Data loaders: fixed splits, pipelines of global batches, and checked generated datasets."""

import shutil

import numpy as np
import pytest

import course_lib
from course_lib import data, generators
from course_lib.data import DataIntegrityError


def test_digits_split_is_fixed_and_stratified():
    split = course_lib.load_digits()
    assert split.x_train.shape == (1197, 64) and split.x_val.shape == (300, 64) and split.x_test.shape == (300, 64)
    assert split.x_train.dtype == np.float32 and split.y_train.dtype == np.int32
    assert 0.0 == split.x_train.min() and split.x_train.max() == 1.0
    assert np.bincount(split.y_test).min() >= 29  # stratified: every class about 30 times
    again = course_lib.load_digits()
    np.testing.assert_array_equal(split.x_test, again.x_test)
    assert "train: x (1197, 64) float32" in split.summary()


def test_digits_image_layout():
    assert course_lib.load_digits(layout="image").x_train.shape == (1197, 8, 8, 1)
    with pytest.raises(ValueError, match="expected layout to be one of"):
        course_lib.load_digits(layout="square")


def test_mnist_offline_falls_back_to_digits(capsys):
    split = course_lib.load_image_dataset("mnist", online=False)
    assert split.x_train.shape == (1197, 64)
    assert "using scikit-learn digits" in capsys.readouterr().out
    with pytest.raises(ValueError, match="expected name 'digits' or 'mnist'"):
        course_lib.load_image_dataset("cifar")


def test_training_pipeline_has_only_full_global_batches():
    split = course_lib.load_digits()
    ds = course_lib.make_dataset(split.x_train, split.y_train, 64, training=True, strategy=2)
    sizes = [int(x.shape[0]) for x, _ in ds]
    assert sizes == [64] * (1197 // 64)


def test_eval_pipeline_keeps_every_example():
    split = course_lib.load_digits()
    ds = course_lib.make_dataset(split.x_val, split.y_val, 64, training=False)
    assert sum(int(x.shape[0]) for x, _ in ds) == 300


def test_training_shuffle_is_reproducible():
    split = course_lib.load_digits()
    first = [y.numpy() for _, y in course_lib.make_dataset(split.x_train, split.y_train, 64, training=True, seed=3)]
    again = [y.numpy() for _, y in course_lib.make_dataset(split.x_train, split.y_train, 64, training=True, seed=3)]
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate(again))


def test_make_dataset_rejects_bad_input():
    x, y = np.zeros((10, 3)), np.zeros(9)
    with pytest.raises(ValueError, match="same length, got 10 and 9"):
        course_lib.make_dataset(x, y, 2, training=True)
    with pytest.raises(ValueError, match="does not divide evenly across 2 replicas"):
        course_lib.make_dataset(x, np.zeros(10), 5, training=True, strategy=2)
    with pytest.raises(ValueError, match="larger than the 10 training examples"):
        course_lib.make_dataset(x, np.zeros(10), 16, training=True)
    with pytest.raises(ValueError, match="global_batch to be an int"):
        course_lib.make_dataset(x, np.zeros(10), "8", training=True)


def test_digits_datasets():
    train, val, test = course_lib.digits_datasets(32, layout="image", strategy=2)
    x, y = next(iter(train))
    assert tuple(x.shape) == (32, 8, 8, 1) and tuple(y.shape) == (32,)


def test_sample_photos():
    photos = course_lib.load_sample_photos()
    assert sorted(photos) == ["china", "flower"]
    assert all(p.shape == (427, 640, 3) and p.dtype == np.uint8 for p in photos.values())


def test_load_generated_number_words():
    words = course_lib.load_generated("number_words")
    assert len(words["number"]) == 10000
    assert words["english"][3421] == "three thousand four hundred twenty-one"
    assert words["chinese"][1010] == "一千零一十"
    assert sorted(set(words["split"])) == ["test", "train", "val"]


def test_load_generated_rejects_unknown_name():
    with pytest.raises(ValueError, match="unknown dataset 'nope'"):
        course_lib.load_generated("nope")


@pytest.fixture
def copied_datasets(tmp_path):
    root = tmp_path / "datasets"
    shutil.copytree(data.DATASETS_DIR, root)
    return root


def test_damaged_file_is_refused_with_its_name(copied_datasets):
    path = copied_datasets / "number_words" / "data.tsv"
    path.write_text(path.read_text(encoding="utf-8").replace("九千", "八千", 1), encoding="utf-8")
    with pytest.raises(DataIntegrityError, match=r"number_words/data.tsv: sha256 .* does not match"):
        course_lib.load_generated("number_words", root=copied_datasets)


def test_missing_file_is_refused(copied_datasets):
    (copied_datasets / "number_words" / "data.tsv").unlink()
    with pytest.raises(DataIntegrityError, match="missing; regenerate it"):
        course_lib.load_generated("number_words", root=copied_datasets)


def test_file_not_in_manifest_is_refused(copied_datasets):
    (copied_datasets / "SHA256SUMS").write_text("", encoding="utf-8")
    with pytest.raises(DataIntegrityError, match="not listed in"):
        course_lib.load_generated("number_words", root=copied_datasets)


def test_without_datasets_folder_data_is_generated(tmp_path, capsys):
    words = course_lib.load_generated("number_words", root=tmp_path / "absent")
    assert words["chinese"][15] == "十五"
    assert "generating 'number_words' in memory" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(generators.GENERATORS))
def test_generators_reproduce_the_manifest(name, tmp_path):
    path = generators.write(name, tmp_path)
    assert data.sha256_of(path) == data.read_manifest()[f"{name}/data.tsv"]
    assert (data.DATASETS_DIR / name / "DATASHEET.md").exists()


def test_parse_table_types():
    cols = data.parse_table("a\tb\tc\n1\t2.5\tx\n3\t4\ty\n")
    assert cols["a"].dtype == np.int64 and cols["b"].dtype == np.float64 and cols["c"].dtype.kind == "U"
    with pytest.raises(ValueError, match="header row"):
        data.parse_table("")


@pytest.mark.parametrize(
    "n, english, chinese",
    [(0, "zero", "零"), (10, "ten", "十"), (15, "fifteen", "十五"), (20, "twenty", "二十"),
     (105, "one hundred five", "一百零五"), (110, "one hundred ten", "一百一十"),
     (1005, "one thousand five", "一千零五"), (1050, "one thousand fifty", "一千零五十"),
     (1100, "one thousand one hundred", "一千一百"), (9999, "nine thousand nine hundred ninety-nine", "九千九百九十九")],
)
def test_number_words(n, english, chinese):
    assert generators.english_number(n) == english
    assert generators.chinese_number(n) == chinese


def test_number_words_range():
    with pytest.raises(ValueError, match="0 <= n <= 9999, got 10000"):
        generators.english_number(10000)
    with pytest.raises(ValueError, match="got -1"):
        generators.chinese_number(-1)
    with pytest.raises(ValueError, match="unknown dataset"):
        generators.render("nope")


def test_make_dataset_takes_several_inputs_and_outputs():
    users, items = np.arange(12), np.arange(12) * 10
    ratings = np.linspace(1, 5, 12).astype("float32")
    ds = course_lib.make_dataset({"user": users, "item": items}, ratings, 4, training=True, seed=1)
    batches = list(ds)
    assert len(batches) == 3
    x, y = batches[0]
    assert set(x) == {"user", "item"} and x["user"].shape == (4,)
    np.testing.assert_array_equal(x["item"].numpy(), x["user"].numpy() * 10)  # rows stay together
    ds = course_lib.make_dataset((users, items), (ratings, ratings > 3), 5, training=False)
    (a, b), (r, flag) = next(iter(ds))
    assert a.shape == (5,) and flag.dtype == bool and [len(t[1][0]) for t in ds] == [5, 5, 2]


def test_make_dataset_names_the_array_of_another_length():
    with pytest.raises(ValueError, match=r"same length, got x\['user'\]: 12, x\['item'\]: 11, y: 12"):
        course_lib.make_dataset({"user": np.arange(12), "item": np.arange(11)}, np.arange(12), 4, training=True)
    with pytest.raises(ValueError, match="non-empty tuple/dict of arrays"):
        course_lib.make_dataset({}, np.arange(12), 4, training=True)
    with pytest.raises(ValueError, match=r"x\[1\] to be an array with a first \(example\) dimension, got a scalar"):
        course_lib.make_dataset((np.arange(3), 5), np.arange(3), 1, training=True)


# --- damaged manifests, the --verify table, line ends ----------------------------------------

@pytest.mark.parametrize("line", ["abc number_words/data.tsv", "a" * 64, "A" * 64 + "  number_words/data.tsv",
                                  "a" * 64 + "  ../outside.tsv", "a" * 64 + "  /etc/passwd"])
def test_malformed_manifest_line_is_named_with_the_fix(copied_datasets, line):
    manifest = copied_datasets / "SHA256SUMS"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(DataIntegrityError, match=r"SHA256SUMS, line 4: expected '<64 lowercase hex digits>  "
                                                 r"<relative path>'.*git checkout -- SHA256SUMS"):
        data.read_manifest(copied_datasets)


def test_duplicate_manifest_line_is_named(copied_datasets):
    manifest = copied_datasets / "SHA256SUMS"
    first = manifest.read_text(encoding="utf-8").splitlines()[0]
    manifest.write_text(manifest.read_text(encoding="utf-8") + first + "\n", encoding="utf-8")
    with pytest.raises(DataIntegrityError, match="line 3: number_words/data.tsv is listed twice"):
        data.read_manifest(copied_datasets)


def test_crlf_line_ends_are_diagnosed_and_the_fix_restores_the_bytes(copied_datasets):
    path = copied_datasets / "number_words" / "data.tsv"
    good = path.read_bytes()
    path.write_bytes(good.replace(b"\n", b"\r\n"))  # what core.autocrlf does on a Windows checkout
    with pytest.raises(DataIntegrityError, match=r"line ends were changed to CRLF.*--regenerate number_words"):
        data.verify_file(path, copied_datasets)
    generators.write("number_words", copied_datasets)  # the suggested fix
    assert path.read_bytes() == good
    data.verify_file(path, copied_datasets)


def test_gitattributes_pins_the_dataset_files():
    import subprocess

    root = data.DATASETS_DIR.parent
    text = (root / ".gitattributes").read_text(encoding="utf-8")
    assert "datasets/** -text" in text
    out = subprocess.run(["git", "check-attr", "text", "datasets/number_words/data.tsv", "datasets/SHA256SUMS"],
                         cwd=root, capture_output=True, text=True)
    if out.returncode == 0:  # a git checkout (not an unpacked archive)
        assert out.stdout.count("text: unset") == 2, out.stdout


def test_verify_datasets_reports_every_file(copied_datasets):
    assert data.verify_datasets(copied_datasets) == [("number_words/data.tsv", "ok", ""),
                                                     ("review_sentiment/data.tsv", "ok", "")]
    (copied_datasets / "number_words" / "data.tsv").unlink()
    review = copied_datasets / "review_sentiment" / "data.tsv"
    review.write_bytes(review.read_bytes() + b"x")
    (copied_datasets / "extra").mkdir()
    (copied_datasets / "extra" / "data.tsv").write_text("a\n1\n")
    rows = data.verify_datasets(copied_datasets)
    assert [(f, s) for f, s, _ in rows] == [("number_words/data.tsv", "missing"),
                                           ("review_sentiment/data.tsv", "damaged"),
                                           ("extra/data.tsv", "not in manifest")]
    assert "--regenerate number_words" in rows[0][2] and "--regenerate review_sentiment" in rows[1][2]
    assert "not a generated dataset" in rows[2][2]


def test_verify_command_prints_one_table_and_fails_if_any_file_is_bad(copied_datasets, monkeypatch, capsys):
    from course_lib.__main__ import main

    monkeypatch.setattr(data, "DATASETS_DIR", copied_datasets)
    assert main(["datasets", "--verify"]) == 0
    assert "2 of 2 files ok" in capsys.readouterr().out
    (copied_datasets / "number_words" / "data.tsv").write_text("damaged\n")
    (copied_datasets / "review_sentiment" / "data.tsv").unlink()
    assert main(["datasets", "--verify"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["file", "status", "fix"]
    assert out[1].startswith("number_words/data.tsv") and " damaged " in out[1]
    assert out[2].startswith("review_sentiment/data.tsv") and " missing " in out[2]
    assert out[-1] == "0 of 2 files ok"
    (copied_datasets / "SHA256SUMS").write_text("nonsense\n")
    assert main(["datasets", "--verify"]) == 1
    assert "bad manifest" in capsys.readouterr().out


def test_write_rejects_a_bad_name_before_creating_anything(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    for name in ("../x", "nope", None, ""):
        with pytest.raises(ValueError, match="unknown dataset|expected name"):
            generators.write(name, root)
    assert list(tmp_path.iterdir()) == [root] and list(root.iterdir()) == []
    with pytest.raises(TypeError, match="root"):
        generators.write("number_words", None)
