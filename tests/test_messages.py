"""Checker feedback in Chinese (course_lib/messages.py, course_lib/locale/zh.po).

- the catalogue is complete: every message template of exercises.py and checks_NN.py has a Chinese
  form with the same placeholders;
- real checker output (every typical mistake of several chapters) is shown in Chinese, keeps its
  numbers and leaves no English hint sentence behind;
- English output is exactly what it was before translation existed;
- the language is chosen by set_language / COURSE_LANG, and bad choices get clear errors.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from nbutils import ROOT, chapter_exercises, load_tagged

from course_lib import exercises, messages
from course_lib.exercises import FAILED, NOT_ATTEMPTED, PASSED, Result

UPDATE = "python -m course_lib.messages --update"
CJK = re.compile(r"[\u4e00-\u9fff]")
#: four or more English words in a row: a sentence left untranslated
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,}){3,}\b")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
#: chapters whose checkers are quick (NumPy only); every Mistake of every exercise is shown in Chinese
CHAPTERS = ["02", "03", "11", "12", "15"]


@pytest.fixture(autouse=True)
def _english_afterwards(monkeypatch):
    monkeypatch.delenv("COURSE_LANG", raising=False)
    messages.set_language(None)
    yield
    messages.set_language(None)


def _fresh_chapter(name: str, monkeypatch):
    """A chapter's checkers with no result yet in this session (other tests may have run them)."""
    import importlib

    checks = importlib.import_module(f"course_lib.checks_{name}")
    monkeypatch.setattr(exercises, "_strict", False)   # whatever COURSE_STRICT says
    for exercise in checks.EXERCISES.exercises:
        monkeypatch.setattr(exercise, "last", None)
    return checks


def _chapter(prefix: str) -> str:
    return next(p.stem for p in (ROOT / "notebooks").glob(f"{prefix[:2]}_*.ipynb"))


# --- (a) completeness -------------------------------------------------------------------------


def test_every_template_of_the_source_is_translated():
    missing = messages.missing_translations("zh")
    assert not missing, (
        f"{len(missing)} checker messages have no Chinese translation (or other placeholders than the "
        f"English). Run `{UPDATE}`, then fill in their msgstr in course_lib/locale/zh.po "
        "(keep every {0}, {1}, ... of the msgid; literal braces are doubled):\n  " + "\n  ".join(missing[:40]))


def test_the_catalogue_has_no_obsolete_entries_and_is_in_po_format():
    path = messages.LOCALE_DIR / "zh.po"
    entries = [e for e in messages._read_po(path) if e["msgid"]]
    obsolete = sorted({e["msgid"] for e in entries} - set(messages.extract_templates()))
    assert not obsolete, f"templates no longer in the source (run `{UPDATE}` to drop them): {obsolete[:20]}"
    assert len(entries) == len({e["msgid"] for e in entries}), "a msgid appears twice"
    assert all("#, python-brace-format" in e["comments"] for e in entries)
    # reading and writing back gives the same bytes: --update never reformats translators' work
    copy = path.parent / "zh.po.roundtrip"
    try:
        messages._write_po(copy, messages._read_po(path))
        assert copy.read_bytes() == path.read_bytes()
    finally:
        copy.unlink(missing_ok=True)


def test_the_catalogue_ships_with_the_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["course_lib"]
    shipped = {p for pattern in patterns for p in (ROOT / "course_lib").glob(pattern)}
    assert messages.LOCALE_DIR / "zh.po" in shipped


def test_templates_are_extracted_from_fstrings_titles_and_hints(tmp_path):
    source = tmp_path / "checks_99.py"
    source.write_text(
        '"""Docstring: not a message."""\n'
        "EXERCISES = ExerciseSet('99')\n"
        "@EXERCISES.exercise(1, 'softmax')\n"
        "def softmax(student):\n"
        "    '''Docstring of the checker.'''\n"
        "    if x:\n"
        "        raise Wrong(f'{call}: expected shape {want}, got {{braces}} ' + describe(got))\n"
        "    if mode == 'keep last':\n"
        "        raise ValueError(f'a bug in the checker {x}')\n"
        "    return compare(student, Mistake(f, hint='the bias is missing: add b'), rtol=1e-5, mode='a b c')\n",
        encoding="utf-8")
    found = messages.extract_templates([source])
    assert set(found) == {"softmax", "{0}: expected shape {1}, got {{braces}} {2}", "the bias is missing: add b"}
    assert found["softmax"] == ["checks_99.py:3"]


def test_update_adds_new_templates_keeps_translations_and_drops_obsolete_ones(tmp_path):
    real = messages.load_catalogue("zh")
    kept, new = "correct on {0} cases", "expected a function, got {0}"
    target = tmp_path / "zh.po"
    messages._write_po(target, [
        {"comments": ["# header"], "msgid": "", "msgstr": "Language: zh_CN\n"},
        {"comments": [], "msgid": kept, "msgstr": real[kept]},
        {"comments": [], "msgid": "an obsolete message {0}", "msgstr": "过时的消息 {0}"},
    ])
    added, dropped = messages.update_catalogue("zh", path=target)
    entries = {e["msgid"]: e["msgstr"] for e in messages._read_po(target)}
    assert dropped == 1 and "an obsolete message {0}" not in entries
    assert added == len(messages.extract_templates()) - 1
    assert entries[kept] == real[kept] and entries[new] == ""
    assert entries[""] == "Language: zh_CN\n"


def test_an_edited_hint_keeps_its_old_translation_flagged_fuzzy(tmp_path):
    template = "the sign is flipped: the residual is r = x̂ − x (prediction minus target)"
    assert template in messages.extract_templates()
    edited_before = "the sign is flipped: the residual is r = x̂ − x (the prediction minus the target)"
    target = tmp_path / "zh.po"
    messages._write_po(target, [{"comments": [], "msgid": edited_before, "msgstr": "符号反了：r = x̂ − x"}])
    messages.update_catalogue("zh", path=target)
    entry = next(e for e in messages._read_po(target) if e["msgid"] == template)
    assert entry["msgstr"] == "符号反了：r = x̂ − x" and messages._is_fuzzy(entry)
    assert f"#| msgid {messages._po_quote(edited_before)}" in entry["comments"]
    # shown in English until a translator removes the flag (the loader skips fuzzy entries)
    assert template not in {e["msgid"] for e in messages._read_po(target)
                            if e["msgstr"] and not messages._is_fuzzy(e)}


# --- (b) real checker output in Chinese ---------------------------------------------------------


def _mistakes_of(chapter: str, monkeypatch) -> list[tuple[object, object]]:
    """(exercise, mistake) for every Mistake each exercise of ``chapter`` passes to compare_with_reference,
    recorded while the worked solution is checked."""
    import importlib

    module = importlib.import_module(f"course_lib.checks_{chapter[:2]}")
    recorded: list = []
    original = exercises.compare_with_reference

    def recording(student, reference, cases, mistakes=(), *args, **kwargs):
        recorded.extend(mistakes)
        return original(student, reference, cases, mistakes, *args, **kwargs)

    monkeypatch.setattr(module, "compare_with_reference", recording)
    solutions = load_tagged(chapter)
    found = []
    for name, exercise in sorted(chapter_exercises(chapter).items()):
        recorded.clear()
        assert exercise.evaluate(solutions[name]).status == PASSED
        found += [(exercise, m) for m in recorded]
    monkeypatch.setattr(module, "compare_with_reference", original)
    return found


def _without_quoted(text: str) -> str:
    """The text without the reprs of strings (a student's data may be an English sentence) and of
    Python's constants (a list of booleans is not an English sentence)."""
    return re.sub(r"'[^']*'|\"[^\"]*\"|\b(?:True|False|None)\b", "''", text)


def _assert_chinese(english: str, chinese: str) -> None:
    assert CJK.search(chinese), f"not translated:\n{english}"
    left = ENGLISH_RUN.findall(_without_quoted(chinese))
    assert not left, f"English left in the translation {left}:\n{chinese}\n(English: {english})"
    assert sorted(set(NUMBER.findall(english))) == sorted(set(NUMBER.findall(chinese))), \
        f"numbers lost or added:\n{english}\n{chinese}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_typical_mistake_of_a_chapter_is_shown_in_chinese(chapter, monkeypatch):
    chapter = _chapter(chapter)
    found = _mistakes_of(chapter, monkeypatch)
    assert len(found) >= 5, f"{chapter}: expected the checkers' Mistake lists, found {len(found)}"
    shown = 0
    for exercise, mistake in found:
        result = exercise.evaluate(mistake.fn)
        if result.status != FAILED:     # a mistake that only differs on a case the checker does not use
            continue
        english = str(result)
        messages.set_language("zh")
        chinese = str(result)
        messages.set_language("en")
        assert str(result) == english
        _assert_chinese(english, chinese)
        shown += 1
    assert shown >= 0.8 * len(found)


def test_framework_messages_in_chinese():
    """The messages compare_with_reference writes itself: shapes, dtypes, NaN, raised errors, dicts."""
    import numpy as np

    from course_lib.exercises import Case, Wrong, compare_with_reference

    ref = lambda x: np.asarray(x, float) * 2  # noqa: E731
    cases = [Case((np.arange(3.0),)), Case((np.array([1.0, np.nan]),))]
    wrong_answers = [lambda x: np.ones(4), lambda x: (np.asarray(x) * 2).astype(int), lambda x: 1 / 0,
                     lambda x: np.asarray(x) * 2 + 1, lambda x: np.nan_to_num(np.asarray(x) * 2), "not a function"]
    for wrong in wrong_answers:
        with pytest.raises(Wrong) as err:
            compare_with_reference(wrong, ref, cases, name="double")
        _assert_chinese(str(err.value), messages.translate(str(err.value), "zh"))
    with pytest.raises(Wrong) as err:
        compare_with_reference(lambda d: {"a": 1}, lambda d: {"a": 1, "b": 2}, [Case(({},))], name="keys")
    assert messages.translate(str(err.value), "zh") == "keys({})：键不一致；缺少 'b'"


def test_status_lines_summary_and_strict_errors_in_chinese(capsys, monkeypatch):
    checks = _fresh_chapter("03", monkeypatch)
    messages.set_language("zh")
    checks.tanh_layer_backward(None)
    checks.summary()
    out = capsys.readouterr().out
    assert "○ 练习 1 · tanh 层的反向传播：尚未作答" in out
    assert re.search(r"03_backpropagation：\d+ 道练习中做对了 0 道", out)
    monkeypatch.setattr(exercises, "_strict", True)
    with pytest.raises(exercises.ExerciseError, match="尚未作答"):
        checks.tanh_layer_backward(None)
    # graders read English, whatever the student's language
    assert checks.tanh_layer_backward.last.message.startswith("not attempted yet")
    assert exercises.results("03_backpropagation")[0]["status"] == NOT_ATTEMPTED


def test_stored_outputs_of_checker_cells_can_be_translated(capsys, monkeypatch):
    checks = _fresh_chapter("03", monkeypatch)
    checks.tied_autoencoder_grad(None)     # its title holds a colon: "one weight on two paths: a tied autoencoder"
    checks.summary()
    english = "some other output: 3 of 4\n" + capsys.readouterr().out + "done\n"
    assert messages.translate_output(english, "en") == english
    chinese = messages.translate_output(english, "zh").split("\n")
    assert chinese[0] == "some other output: 3 of 4" and chinese[-2:] == ["done", ""]
    assert chinese[1] == ("○ 练习 3 · 一个权重走两条路径：绑定权重的自编码器：尚未作答：把 `raise NotImplementedError` "
                          "换成你的代码，然后重新运行这个单元格")
    assert re.fullmatch(r"03_backpropagation：\d+ 道练习中做对了 0 道", chinese[2])
    assert len(chinese) > 5 and all(CJK.search(line) for line in chinese[1:-2])
    with pytest.raises(TypeError, match="text"):
        messages.translate_output(None)


def test_translation_never_loses_an_unknown_message():
    for text in ["", "something no checker says", "conv1d(array of shape (3,) (float64)): a new hint nobody translated",
                 "{0} {{x}} } {", "expected shape (2,), got shape (3,)" * 50]:
        out = messages.translate(text, "zh")
        assert isinstance(out, str)
        assert NUMBER.findall(out) == NUMBER.findall(text)
    # an untranslated hint after a translated call keeps its English words
    assert "a new hint nobody translated" in messages.translate(
        "conv1d(array of shape (3,) (float64)): a new hint nobody translated", "zh")


def test_lists_of_arrays_inside_calls():
    text = ("clip(a list of 2 items (array of shape (3,) (float64), a tuple of 1 items (array of shape (4,) "
            "(int32))), 1.0): the sign is flipped: the residual is r = x̂ − x (prediction minus target)")
    assert messages.translate(text, "zh") == (
        "clip(含 2 项的 list（形状为 (3,) 的 float64 数组, 含 1 项的 tuple（形状为 (4,) 的 int32 数组））, 1.0)："
        "符号反了：残差是 r = x̂ − x（预测减目标）")


def test_cases_shown_by_their_description():
    assert messages.translate("f(<passed>, <no such description>): expected shape (2,), got shape (3,)", "zh") == \
        "f(<通过>, <no such description>)：应为形状 (2,)，实际得到形状 (3,)"


def test_describe_texts_inside_calls_and_nested_placeholders():
    text = ("f(array of shape (2, 3) (float32), 4): expected shape (2, 3), got shape (3, 2)")
    assert messages.translate(text, "zh") == "f(形状为 (2, 3) 的 float32 数组, 4)：应为形状 (2, 3)，实际得到形状 (3, 2)"
    assert messages.translate("expected array of shape (2,) (int64), but it raised ValueError: bad", "zh") == \
        "期望得到 形状为 (2,) 的 int64 数组，但它抛出了 ValueError：bad"


# --- (c) English is untouched -------------------------------------------------------------------


def test_english_output_is_unchanged(capsys, monkeypatch):
    result = Result("Exercise 3 · softmax", FAILED, "f(array of shape (2,) (float64)): expected shape (2,), got shape (3,)")
    assert str(result) == f"✗ {result.label}: {result.message}"
    assert messages.translate(result.message) is result.message
    assert messages.translate(result.message, "en") is result.message
    checks = _fresh_chapter("03", monkeypatch)
    checks.tanh_layer_backward(None)
    checks.summary()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("○ Exercise 1 · a tanh layer's backward pass: not attempted yet: replace "
                        "`raise NotImplementedError` with your code, then run this cell again")
    assert lines[1] == "03_backpropagation: 0 of 4 exercises correct"
    assert lines[2] == "  ○ Exercise 1 · a tanh layer's backward pass: not attempted"
    assert lines[3] == "  · Exercise 2 · the softmax's backward pass: not checked yet"


# --- (d) choosing the language --------------------------------------------------------------------


def test_set_language_and_course_lang(monkeypatch):
    assert messages.get_language() == "en"
    monkeypatch.setenv("COURSE_LANG", "zh_CN.UTF-8")
    assert messages.get_language() == "zh"
    assert messages.translate("correct") == "正确"
    messages.set_language("en")            # an explicit choice wins over the environment
    assert messages.get_language() == "en" and messages.translate("correct") == "correct"
    messages.set_language(None)
    assert messages.get_language() == "zh"
    for code in ("ZH", "zh-CN", "zh-Hans", " zh "):
        messages.set_language(code)
        assert messages.get_language() == "zh"
    monkeypatch.setenv("COURSE_LANG", "klingon")
    messages.set_language(None)
    with pytest.warns(UserWarning, match="COURSE_LANG"):
        assert messages.get_language() == "en"


@pytest.mark.parametrize("bad, error", [(3, TypeError), (b"zh", TypeError), ("fr", ValueError), ("", ValueError),
                                        (["zh"], TypeError)])
def test_set_language_rejects_bad_values(bad, error):
    with pytest.raises(error, match=r"set_language\(lang\).*lang"):
        messages.set_language(bad)
    assert messages.get_language() == "en"


def test_bad_arguments_of_the_other_functions():
    with pytest.raises(TypeError, match="text"):
        messages.translate(None, "zh")
    with pytest.raises(ValueError, match="lang"):
        messages.translate("correct", "fr")
    with pytest.raises(ValueError, match="lang"):
        messages.update_catalogue("en")
    with pytest.raises(TypeError, match="files"):
        messages.extract_templates("course_lib/exercises.py")
    with pytest.raises(ValueError, match="files"):
        messages.extract_templates([Path("no/such/file.py")])
    assert messages.labelled("Exercise 1 · softmax", "correct", "zh") == "练习 1 · softmax：正确"
    with pytest.raises(TypeError, match="label"):
        messages.labelled(1, "correct")


def test_the_command_line(capsys):
    assert messages._main(["--missing"]) == 0
    assert "0 untranslated in zh" in capsys.readouterr().out
