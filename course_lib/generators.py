"""The code behind every generated dataset in ``datasets/``.

A generator is deterministic: it returns a header and rows, which :func:`render` turns into a
tab-separated text whose bytes are the same on every machine, so ``datasets/SHA256SUMS`` can
vouch for the files and ``python -m course_lib datasets --regenerate NAME`` can rebuild them.

To add a dataset: write a generator here, register it in ``GENERATORS``, run
``python -m course_lib datasets --regenerate NAME``, and write ``datasets/NAME/DATASHEET.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from course_lib._validate import check_arguments, check_int, check_seed

__all__ = [
    "english_number", "chinese_number", "number_words", "review_sentiment", "render", "write",
]

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ZH_DIGITS = "零一二三四五六七八九"
_ZH_UNITS = ("", "十", "百", "千")
#: The most reviews :func:`review_sentiment` makes (all splits together).
MAX_REVIEWS = 200_000


def english_number(n: int) -> str:
    """American English words for 0 <= n <= 9999, e.g. 3421 -> 'three thousand four hundred twenty-one'."""
    n = check_int(n, "n")
    if not 0 <= n <= 9999:
        raise ValueError(f"expected 0 <= n <= 9999, got {n}")
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else "-" + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + english_number(rest))
    rest = n % 1000
    return _ONES[n // 1000] + " thousand" + ("" if rest == 0 else " " + english_number(rest))


def chinese_number(n: int) -> str:
    """Chinese numerals for 0 <= n <= 9999, e.g. 1010 -> '一千零一十', 15 -> '十五'."""
    n = check_int(n, "n")
    if not 0 <= n <= 9999:
        raise ValueError(f"expected 0 <= n <= 9999, got {n}")
    if n == 0:
        return _ZH_DIGITS[0]
    digits = [int(c) for c in str(n)]
    out: list[str] = []
    pending_zero = False
    for i, d in enumerate(digits):
        if d == 0:
            pending_zero = True
            continue
        if pending_zero and out:
            out.append(_ZH_DIGITS[0])  # one 零 stands for any run of inner zeros
        pending_zero = False
        out.append(_ZH_DIGITS[d] + _ZH_UNITS[len(digits) - 1 - i])
    text = "".join(out)
    return text[1:] if 10 <= n <= 19 else text  # 一十五 is read 十五


def number_words(seed: int = 0) -> tuple[list[str], list[list[str]]]:
    """Every integer 0..9999 as English words, Chinese numerals and digits, with a fixed split."""
    check_arguments(number_words, locals())
    check_seed(seed)
    order = np.random.default_rng(seed).permutation(10000)
    split = np.empty(10000, dtype=object)
    split[order[:8000]], split[order[8000:9000]], split[order[9000:]] = "train", "val", "test"
    rows = [[str(n), english_number(n), chinese_number(n), str(split[n])] for n in range(10000)]
    return ["number", "english", "chinese", "split"], rows


def _review_clause(rng: np.random.Generator) -> tuple[list[str], int]:
    """One clause, ``the NOUN was [not] [, ASIDE ,] [INTENSIFIER] ADJECTIVE``, and its polarity (+1/-1)."""
    positive = rng.random() < 0.5
    negated = rng.random() < 0.5
    words = ["the", _REVIEW_NOUNS[rng.integers(len(_REVIEW_NOUNS))], "was"]
    if negated:
        words.append("not")
    if rng.random() < 0.5:  # an aside puts distance between "not" and the adjective
        words += [",", *_REVIEW_ASIDES[rng.integers(len(_REVIEW_ASIDES))].split(), ","]
    if rng.random() < 0.5:
        words.append(_REVIEW_INTENSIFIERS[rng.integers(len(_REVIEW_INTENSIFIERS))])
    adjectives = _REVIEW_POSITIVE if positive else _REVIEW_NEGATIVE
    words.append(adjectives[rng.integers(len(adjectives))])
    return words, (1 if positive else -1) * (-1 if negated else 1)


def review_sentiment(
    seed: int = 0, n_train: int = 3000, n_val: int = 500, n_test: int = 1500
) -> tuple[list[str], list[list[str]]]:
    """Short synthetic reviews whose sentiment depends on word order: negation and contrast.

    A review is one clause, or two joined by ", but" (the second clause decides) or ", although"
    (the first decides). "not" flips its clause, with an optional aside between it and the
    adjective. ``kind`` is ``single``, ``agree`` (both clauses have the same polarity) or
    ``contrast`` (they differ: the same bag of words then has either label with equal chance).
    Reviews are unique, so no review of one split appears in another. At most ``MAX_REVIEWS``
    (200,000) reviews in all, drawn at most ``20 * total + 1000`` times, so the call always ends.

    Raises:
        ValueError: a size that is not an int (``n_val``/``n_test`` may be 0, ``n_train`` >= 1), a
            total over ``MAX_REVIEWS``, a bad seed, or draws that ran out before enough unique reviews.
    """
    check_arguments(review_sentiment, locals(), n_train="own", n_val="own", n_test="own")
    check_seed(seed)
    n_train = check_int(n_train, "n_train", 1, MAX_REVIEWS)
    n_val, n_test = check_int(n_val, "n_val", 0, MAX_REVIEWS), check_int(n_test, "n_test", 0, MAX_REVIEWS)
    if n_train + n_val + n_test > MAX_REVIEWS:
        raise ValueError(f"expected n_train + n_val + n_test <= {MAX_REVIEWS:,}, got {n_train + n_val + n_test:,}")
    rng = np.random.default_rng(seed)
    total = n_train + n_val + n_test
    seen: set[str] = set()
    rows: list[list[str]] = []
    budget = 20 * total + 1000
    while len(rows) < total:
        if budget == 0:
            raise ValueError(f"found only {len(rows):,} unique reviews in {20 * total + 1000:,} draws; "
                             f"ask for fewer (n_train + n_val + n_test = {total:,})")
        budget -= 1
        first, s1 = _review_clause(rng)
        choice = rng.random()
        if choice < 1 / 3:
            words, label, connector, kind = first, s1, "none", "single"
        else:
            second, s2 = _review_clause(rng)
            connector = "but" if choice < 2 / 3 else "although"
            words = [*first, ",", connector, *second]
            label = s2 if connector == "but" else s1
            kind = "agree" if s1 == s2 else "contrast"
        text = " ".join(words)
        if text in seen:
            continue
        seen.add(text)
        split = "train" if len(rows) < n_train else "val" if len(rows) < n_train + n_val else "test"
        rows.append([text, "1" if label > 0 else "0", connector, kind, split])
    return ["review", "label", "connector", "kind", "split"], rows


#: name -> generator returning (header, rows)
GENERATORS: dict[str, Callable[[], tuple[list[str], list[list[str]]]]] = {
    "number_words": number_words,
    "review_sentiment": review_sentiment,
}


def render(name: str) -> str:
    """The dataset's tab-separated text (header row first, ``\\n`` line ends)."""
    check_arguments(render, locals(), name="own")
    if not isinstance(name, str) or name not in GENERATORS:
        raise ValueError(f"unknown dataset {name!r}; expected name to be one of {sorted(GENERATORS)}")
    header, rows = GENERATORS[name]()
    for row in rows:
        if any("\t" in cell or "\n" in cell for cell in row):
            raise ValueError(f"dataset {name!r}: a cell contains a tab or newline: {row}")
    return "\n".join("\t".join(r) for r in [header, *rows]) + "\n"


def write(name: str, root: Path) -> Path:
    """Write ``root/name/data.tsv`` and record its sha256 in ``root/SHA256SUMS``."""
    check_arguments(write, locals(), name="own", root="own")
    from course_lib.data import MANIFEST, read_manifest, sha256_of

    if not isinstance(name, str) or name not in GENERATORS:  # before anything is created: "../x" stays out
        raise ValueError(f"unknown dataset {name!r}; expected name to be one of {sorted(GENERATORS)}")
    if not isinstance(root, (str, Path)) or not str(root):
        raise TypeError(f"expected root to be a folder path (str or pathlib.Path), got {type(root).__name__} {root!r:.40}")
    root = Path(root)
    path = root / name / "data.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render(name).encode("utf-8"))
    manifest = root / MANIFEST
    entries = read_manifest(root) if manifest.exists() else {}
    entries[f"{name}/data.tsv"] = sha256_of(path)
    manifest.write_text("".join(f"{d}  {r}\n" for r, d in sorted(entries.items())), encoding="utf-8")
    return path


# --- review_sentiment (chapter 06): sentiment where word order and distance matter -----------

_REVIEW_NOUNS = "movie plot acting music ending story cast script".split()
_REVIEW_POSITIVE = "good great clever funny moving charming".split()
_REVIEW_NEGATIVE = "bad dull boring weak silly clumsy".split()
_REVIEW_INTENSIFIERS = "very really quite truly".split()
_REVIEW_ASIDES = ("frankly", "i think", "i must say", "to be honest", "if you ask me", "as far as i can tell")
