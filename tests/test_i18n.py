"""The Chinese edition (中文版): every translated notebook is current and its committed Chinese notebook is
exactly what the build makes from the English one now; the parser and verification on small
synthetic notebooks. Nothing is executed here: the Chinese notebooks are validated by their equality
with the (strictly checked) English ones.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbutils import ROOT

from course_lib import __main__ as cli
from course_lib import i18n

ENGLISH = [p for f in i18n.FOLDERS for p in sorted((ROOT / f).glob("[0-9][0-9]_*.ipynb"))]
TRANSLATED = i18n.translated_notebooks()
UNTRANSLATED = [p for p in ENGLISH if p not in TRANSLATED]


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


# --- every translated notebook -------------------------------------------------------------------

@pytest.fixture(scope="module", params=TRANSLATED, ids=_id)
def translated(request):
    path = request.param
    return path, i18n.status([path])[0]


@pytest.mark.parametrize("kind", ["stale", "missing", "orphan", "mismatch"])
def test_translation_is_current(translated, kind):
    path, row = translated
    ids = getattr(row, kind)
    fix = {"stale": "the English cell changed since its translation: re-translate it",
           "missing": "the cell needs a block", "orphan": "the block's cell no longer exists (or has no comments)",
           "mismatch": "the code block differs from the English cell other than in # comments"}[kind]
    assert not ids, (f"{i18n.translation_path(path).relative_to(ROOT)}: {kind} cells {ids} ({fix}); run "
                     f"`python -m course_lib zh skeleton {path.stem[:2]} --update`, translate, then `zh build`")


def test_committed_chinese_notebook_is_what_the_build_makes_now(translated):
    path, row = translated
    target = i18n.zh_path(path)
    assert target.exists(), f"{target.relative_to(ROOT)} missing: run `python -m course_lib zh build {path.stem[:2]}`"
    if not row.ok:
        pytest.fail(f"cannot build: {row.problems()}")
    assert target.read_text(encoding="utf-8") == i18n.render_notebook(path), (
        f"{target.relative_to(ROOT)} is not what the build makes from the English notebook now (an English "
        f"refresh without a zh rebuild?): run `python -m course_lib zh build {path.stem[:2]}` and commit zh/")


def test_chinese_notebook_has_the_english_code_and_outputs(translated):
    path, _ = translated
    target = i18n.zh_path(path)
    if not target.exists():
        pytest.fail(f"{target.relative_to(ROOT)} missing")
    en = nbformat.read(path, as_version=4)
    zh = nbformat.read(target, as_version=4)
    assert [(c.id, c.cell_type) for c in zh.cells] == [(c.id, c.cell_type) for c in en.cells]
    assert zh.metadata["course"]["language"] == "zh"
    assert {k: v for k, v in zh.metadata.items() if k != "course"} == dict(en.metadata)
    setups = 0
    for e, z in zip(en.cells, zh.cells):
        assert z.metadata == e.metadata, f"cell {e.id}: metadata or tags differ"
        if e.cell_type != "code":
            continue
        assert z.outputs == i18n.checker_lines_translated(e.outputs), \
            f"cell {e.id}: outputs differ from the English notebook's other than in checker messages"
        assert z.get("execution_count") == e.get("execution_count")
        assert i18n.code_matches(i18n.add_language_to_setup(e.source, "zh"), z.source), \
            f"cell {e.id}: code differs from the English cell other than in comments and the setup call"
        if "setup_notebook(" in e.source:
            setups += 1
            assert 'lang="zh"' in z.source
    assert setups == 1, "expected exactly one setup cell"


def test_chinese_notebook_links_and_badge_resolve(translated):
    path, _ = translated
    target = i18n.zh_path(path)
    zh = nbformat.read(target, as_version=4)
    text = "\n".join(c.source for c in zh.cells if c.cell_type == "markdown")
    badges = re.findall(r"colab\.research\.google\.com/github/[^/]+/[^/]+/blob/main/(\S+?\.ipynb)", text)
    if path.parent.name == "notebooks":
        assert badges and badges[0] == f"zh/notebooks/{path.name}", badges
    for b in badges:
        assert (ROOT / b).is_file(), f"the Colab link opens {b}, which does not exist"
    for link in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", link) or link.startswith("#"):
            continue
        resolved = (target.parent / link.split("#")[0]).resolve()
        assert resolved.exists(), f"{target.relative_to(ROOT)}: link {link} leads nowhere"
        if resolved.suffix == ".ipynb":  # a translated notebook's link leads to the Chinese one
            rel = resolved.relative_to(ROOT)
            english = ROOT / rel.parts[-2] / rel.name
            assert (english in TRANSLATED) == (rel.parts[0] == "zh"), f"{link}: leads to the wrong edition"


@pytest.mark.parametrize("path", UNTRANSLATED or [None], ids=[_id(p) for p in UNTRANSLATED] or ["none"])
def test_untranslated_notebooks_are_listed(path):
    if path is None:
        return
    assert not i18n.zh_path(path).exists(), f"{i18n.zh_path(path)} exists without a translation file"
    pytest.skip(f"not yet translated: {i18n.translation_path(path).relative_to(ROOT)} does not exist")


def test_no_translation_file_without_its_english_notebook():
    for f in i18n.FOLDERS:
        for md in (i18n.I18N_DIR / f).glob("*.md"):
            assert (ROOT / f / f"{md.stem}.ipynb").exists(), f"{md.relative_to(ROOT)}: no English notebook {f}/{md.stem}.ipynb"
        for nb in (i18n.ZH_DIR / f).glob("*.ipynb"):
            assert (i18n.I18N_DIR / f / f"{nb.stem}.md").exists(), f"{nb.relative_to(ROOT)} has no translation file"


# --- README.zh.md -------------------------------------------------------------------------------

def test_readme_zh_links_resolve_and_translated_chapters_link_to_chinese():
    text = (ROOT / "README.zh.md").read_text(encoding="utf-8")
    assert "README.md" in text and "make lab" in text and "make test" in text
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    for link in links:
        if re.match(r"^[a-z]+:", link) or link.startswith("#"):
            continue
        assert (ROOT / link.split("#")[0]).exists(), f"README.zh.md: {link} leads nowhere"
    for path in TRANSLATED:
        if path.parent.name == "notebooks":
            assert f"zh/notebooks/{path.name}" in links, f"README.zh.md: link chapter {path.stem[:2]} to its Chinese notebook"
    for path in UNTRANSLATED:
        if path.parent.name == "notebooks":
            assert f"zh/notebooks/{path.name}" not in links
    assert text == i18n.readme_syllabus(text), "README.zh.md's chapter links are behind: run `python -m course_lib zh build`"


def test_readme_syllabus_points_at_the_edition_that_exists():
    row = "| 05 | [卷积](notebooks/05_c.ipynb)（英文） | x | [答案](zh/solutions/05_c.ipynb) |"
    assert i18n.readme_syllabus(row, ["notebooks/05_c.ipynb"]) == \
        "| 05 | [卷积](zh/notebooks/05_c.ipynb) | x | [答案](solutions/05_c.ipynb)（英文） |"
    assert i18n.readme_syllabus(i18n.readme_syllabus(row, []), []) == i18n.readme_syllabus(row, [])


# --- synthetic notebooks: parser, verification, build ---------------------------------------------

def _notebook(tmp_path: Path, cells: list[tuple[str, str, str]], folder: str = "notebooks") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for cid, kind, source in cells:
        cell = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        cell.id = cid
        if kind == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"out of {cid}\n")]
            cell.execution_count = 1
            cell.metadata["tags"] = ["nbval-ignore-output"]
        nb.cells.append(cell)
    path = tmp_path / folder / "01_demo.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


SETUP = 'import course_lib\nstrategy = course_lib.setup_notebook(seed=42)  # the setup call\n'
CELLS = [
    ("a", "md", "# 01 · Demo\n\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                "(https://colab.research.google.com/github/o/n/blob/main/notebooks/01_demo.ipynb)"),
    ("b", "code", SETUP),
    ("c", "md", "Some prose, see [the data](../datasets/README.md) and [solutions](../solutions/01_demo.ipynb)."),
    ("d", "code", "x = 1  # one\ny = 'a # not a comment'\n"),
    ("e", "code", "print(x)\n"),
]
ZH = {"a": "# 01 · 演示\n\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
           "(https://colab.research.google.com/github/o/n/blob/main/notebooks/01_demo.ipynb)",
      "b": SETUP.replace("# the setup call", "# 设置"),
      "c": "一些文字，见[数据](../datasets/README.md)和[答案](../solutions/01_demo.ipynb)。",
      "d": "x = 1  # 一\n      # 第二行注释\ny = 'a # not a comment'\n"}


def _translation(path: Path, blocks: dict[str, str], source_of: dict[str, str] | None = None) -> Path:
    src = {cid: s for cid, _, s in CELLS} | (source_of or {})
    text = "\n".join(f"<!-- cell {cid} en {i18n.cell_hash(src.get(cid, 'gone'))} -->\n{body}\n"
                     for cid, body in blocks.items())
    out = path.parent / f"{path.stem}.md"
    out.write_text(text, encoding="utf-8")
    return out


def test_a_complete_translation_builds(tmp_path):
    path = _notebook(tmp_path, CELLS)
    tr = _translation(path, ZH)
    row = i18n.verify(nbformat.read(path, 4), i18n.read_translation(tr), "demo")
    assert row.ok and row.translated == ["a", "b", "c", "d"] and not row.english
    zh = i18n.build_notebook(path, tr)
    en = nbformat.read(path, 4)
    assert [c.id for c in zh.cells] == [c.id for c in en.cells]
    assert [c.get("outputs") for c in zh.cells] == [c.get("outputs") for c in en.cells]
    assert zh.cells[0].source.endswith("blob/main/zh/notebooks/01_demo.ipynb)")
    assert zh.cells[1].source == SETUP.replace("seed=42)", 'seed=42, lang="zh")').replace("# the setup call", "# 设置").rstrip()
    assert "../../datasets/README.md" in zh.cells[2].source  # leaves the zh tree: one more ../
    assert "../../solutions/01_demo.ipynb" in zh.cells[2].source  # not translated (not in this repo's i18n)
    assert zh.cells[4].source == "print(x)\n"
    assert zh.metadata["course"] == {"language": "zh", "translated_from": "notebooks/01_demo.ipynb"}


def test_stale_missing_orphan_and_mismatch_are_each_detected_and_named(tmp_path):
    path = _notebook(tmp_path, CELLS)
    blocks = dict(ZH)
    del blocks["c"]                                               # missing
    blocks["d"] = "x = 2  # 一\ny = 'a # not a comment'\n"        # code mismatch (1 -> 2)
    blocks["gone"] = "一个已删除的单元格"                           # orphan
    tr = _translation(path, blocks, {"a": "# 01 · Demo, as it was"})  # stale: a's old source
    row = i18n.verify(nbformat.read(path, 4), i18n.read_translation(tr), "demo")
    assert (row.stale, row.missing, row.orphan, row.mismatch) == (["a"], ["c"], ["gone"], ["d"])
    assert not row.ok
    with pytest.raises(i18n.TranslationError) as err:
        i18n.build_notebook(path, tr)
    for words in ("stale: a", "missing: c", "orphan: gone", "code mismatch: d"):
        assert words in str(err.value)


def test_a_block_for_a_code_cell_without_comments_is_an_orphan(tmp_path):
    path = _notebook(tmp_path, CELLS)
    tr = _translation(path, {**ZH, "e": "print(x)\n"})
    row = i18n.verify(nbformat.read(path, 4), i18n.read_translation(tr))
    assert row.orphan == ["e"]


def test_untranslated_blocks_are_reported_as_still_english(tmp_path):
    path = _notebook(tmp_path, CELLS)
    tr = _translation(path, {**ZH, "c": CELLS[2][2]})
    assert i18n.verify(nbformat.read(path, 4), i18n.read_translation(tr)).english == ["c"]


@pytest.mark.parametrize("text, message", [
    ("intro\n<!-- cell a en 0123456789ab -->\nx", "before the first marker"),
    ("<!-- cell a en 0123 -->\nx", "malformed marker"),
    ("<!-- cell a en 0123456789ab -->\nx\n<!-- cell a en 0123456789ab -->\ny", "two blocks"),
])
def test_parse_refuses_malformed_files(text, message):
    with pytest.raises(i18n.TranslationError, match=message):
        i18n.parse_translation(text)


def test_parse_strips_blank_lines_around_blocks():
    blocks = i18n.parse_translation("\n<!-- cell a en 0123456789ab -->\n\n  text\n\n\n<!-- cell b en 0123456789ab -->\nb")
    assert [(b.cell_id, b.text) for b in blocks] == [("a", "  text"), ("b", "b")]


@pytest.mark.parametrize("english, translated, same", [
    ("x = 1  # one\n", "x = 1  # 一\n", True),
    ("x = 1  # one\n", "x = 1  # 一\n# 再加一行\n", True),
    ("x = 1  # one\n", "x = 1\n", True),
    ("x = 1  # one\n", "x = 2  # one\n", False),
    ("s = 'a'  # one\n", "s = '一'  # 一\n", False),           # strings are code
    ('"""doc"""  # c\n', '"""文档"""  # c\n', False),          # docstrings too
    ("if a:\n    b()  # c\n", "if a:\n        b()  # c\n", False),  # indentation
    ("x = [1,  # one\n     2]\n", "x = [1,  # 一\n     2]\n", True),
    ('!pip install x  # c\ny = 1  # c\n', '!pip install x  # c\ny = 1  # 中\n', True),
    ('!pip install x\ny = 1  # c\n', '!pip install y\ny = 1  # 中\n', False),  # shell lines verbatim
    ("x = 1\n", "x = 1", True),
    ("x = (  # c\n", "x = (  # c\n", True),                   # does not tokenize: must be identical
    ("x = (  # c\n", "x = (  # 中\n", False),
])
def test_code_matches(english, translated, same):
    assert i18n.code_matches(english, translated) is same


@pytest.mark.parametrize("source, expected", [
    ("s = course_lib.setup_notebook(seed=42)", 's = course_lib.setup_notebook(seed=42, lang="zh")'),
    ("s = course_lib.setup_notebook()", 's = course_lib.setup_notebook(lang="zh")'),
    ("s = course_lib.setup_notebook(seed=42, cpu_replicas=4)  # c",
     's = course_lib.setup_notebook(seed=42, cpu_replicas=4, lang="zh")  # c'),
    ('s = course_lib.setup_notebook(seed=1, lang="en")', 's = course_lib.setup_notebook(seed=1, lang="zh")'),
    ("print(1)", "print(1)"),
])
def test_the_setup_call_gets_lang_zh(source, expected):
    assert i18n.add_language_to_setup(source, "zh") == expected
    assert i18n.add_language_to_setup(expected, "zh") == expected  # idempotent


def test_a_setup_call_over_several_lines_is_refused():
    with pytest.raises(i18n.TranslationError, match="one line"):
        i18n.add_language_to_setup("course_lib.setup_notebook(\n    seed=42)\n")


@pytest.mark.parametrize("link, folder, expected", [
    ("../solutions/05_x.ipynb", "notebooks", "../solutions/05_x.ipynb"),         # translated: stays in zh/
    ("../solutions/06_y.ipynb", "notebooks", "../../solutions/06_y.ipynb"),      # untranslated: English
    ("06_y.ipynb", "notebooks", "../../notebooks/06_y.ipynb"),
    ("05_x.ipynb#a-section", "solutions", "05_x.ipynb#a-section"),
    ("06_y.ipynb#a-section", "solutions", "../../solutions/06_y.ipynb#a-section"),
    ("../notebooks/05_x.ipynb#sec", "solutions", "../notebooks/05_x.ipynb#sec"),
    ("../datasets/number_words/DATASHEET.md", "notebooks", "../../datasets/number_words/DATASHEET.md"),
    ("../README.md", "notebooks", "../../README.zh.md"),
    ("../README.md#quick-start", "solutions", "../../README.zh.md#quick-start"),
    ("../book/_static/x.png", "notebooks", "../../book/_static/x.png"),
    ("https://example.org/a.ipynb", "notebooks", "https://example.org/a.ipynb"),
    ("#local", "notebooks", "#local"),
])
def test_links_that_leave_the_zh_tree_are_rewritten(link, folder, expected):
    done = {"notebooks/05_x.ipynb", "solutions/05_x.ipynb"}
    assert i18n.rewrite_links(f"see [it]({link}) now", folder, done) == f"see [it]({expected}) now"
    assert i18n.rewrite_links(f'<img src="{link}">', folder, done) == f'<img src="{expected}">'


def test_skeleton_and_update_keep_current_translations(tmp_path):
    path = _notebook(tmp_path, CELLS)
    out = tmp_path / "demo.md"
    written, todo = i18n.skeleton(path, out)
    assert written == out and todo == ["a", "b", "c", "d"]
    with pytest.raises(i18n.TranslationError, match="update"):
        i18n.skeleton(path, out)
    text = out.read_text(encoding="utf-8").replace(CELLS[2][2], ZH["c"])
    out.write_text(text, encoding="utf-8")
    nb = nbformat.read(path, 4)
    nb.cells[0].source += "\n\nA new sentence."
    nbformat.write(nb, path)
    _, todo = i18n.skeleton(path, out, update=True)
    assert todo == ["a"]  # only the changed cell; the others' blocks are kept as they were
    blocks = {b.cell_id: b.text for b in i18n.read_translation(out)}
    assert blocks["c"] == ZH["c"] and blocks["a"].endswith("A new sentence.")


def test_skeleton_matches_the_translators_script_format(tmp_path):
    path = _notebook(tmp_path, CELLS)
    out, _ = i18n.skeleton(path, tmp_path / "s.md")
    expected = "\n".join(f"<!-- cell {cid} en {i18n.cell_hash(s)} -->\n{s}\n" for cid, kind, s in CELLS
                         if kind == "md" or "#" in s.replace("'a # not a comment'", ""))
    assert out.read_text(encoding="utf-8") == expected


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """course_lib.i18n pointed at a repository in tmp_path with one translated synthetic notebook."""
    path = _notebook(tmp_path, CELLS)
    (tmp_path / "i18n" / "zh" / "notebooks").mkdir(parents=True)
    tr = _translation(path, ZH)
    tr.rename(tmp_path / "i18n" / "zh" / "notebooks" / tr.name)
    monkeypatch.setattr(i18n, "ROOT", tmp_path)
    monkeypatch.setattr(i18n, "I18N_DIR", tmp_path / "i18n" / "zh")
    monkeypatch.setattr(i18n, "ZH_DIR", tmp_path / "zh")
    return path


def test_write_is_deterministic_and_links_translated_notebooks(sandbox):
    first = i18n.write_notebooks()
    assert first == [sandbox.parent.parent / "zh" / "notebooks" / "01_demo.ipynb"]
    data = first[0].read_bytes()
    i18n.write_notebooks()
    assert first[0].read_bytes() == data
    nb = json.loads(data)
    assert "../../solutions/01_demo.ipynb" in "".join(nb["cells"][2]["source"])  # the solution is not translated
    assert i18n.status()[0].ok


def test_refresh_rebuilds_a_current_translation_and_warns_about_a_stale_one(sandbox, capsys):
    cli._refresh_chinese([sandbox])
    assert "rebuilt" in capsys.readouterr().out
    built = (sandbox.parent.parent / "zh" / "notebooks" / "01_demo.ipynb").read_bytes()
    nb = nbformat.read(sandbox, 4)
    nb.cells[2].source = "Changed prose."
    nb.cells[3].source = "x = 1  # one, changed\ny = 'a # not a comment'\n"
    nbformat.write(nb, sandbox)
    cli._refresh_chinese([sandbox])  # must not raise: the English refresh has succeeded
    err = capsys.readouterr().err
    assert "WARNING" in err and "stale: c, d" in err and "zh skeleton 01 --update" in err
    assert (sandbox.parent.parent / "zh" / "notebooks" / "01_demo.ipynb").read_bytes() == built  # not rebuilt


def test_cli_status_and_build(sandbox, capsys, monkeypatch):
    from course_lib import nbtools

    monkeypatch.setattr(nbtools, "find_notebooks", lambda selectors=(), folders=i18n.FOLDERS: [sandbox])
    assert cli.main(["zh", "status"]) == 0
    out = capsys.readouterr().out
    assert "| notebooks/01_demo.ipynb | 4 | 0 | 0 | 0 | 0 | 0 | ok |" in out
    assert cli.main(["zh", "build"]) == 0
    assert "wrote zh/notebooks/01_demo.ipynb" in capsys.readouterr().out
    (i18n.I18N_DIR / "notebooks" / "01_demo.md").write_text("<!-- cell a en 000000000000 -->\nx\n", encoding="utf-8")
    assert cli.main(["zh", "build"]) == 1
    assert "stale: a" in capsys.readouterr().err
    assert cli.main(["zh", "status"]) == 1


def test_format_status_lists_untranslated_notebooks():
    row = i18n.NotebookStatus("notebooks/01_x.ipynb", translated=["a"], stale=["b"])
    table = i18n.format_status([row], ["notebooks/02_y.ipynb"])
    assert "| notebooks/01_x.ipynb | 1 | 0 | 1 | 0 | 0 | 0 | FIX: stale: b |" in table
    assert "| notebooks/02_y.ipynb | - | - | - | - | - | - | not yet translated |" in table


def test_make_zh_builds_the_chinese_notebooks():
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(["make", "-n", "-o", ".venv/.installed-stamp", "zh", "NB=00"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert "-m course_lib zh build 00" in out and "-m course_lib zh status" in out


def test_retarget_keeps_the_chinese_edition_current(tmp_path, monkeypatch):
    import shutil

    from course_lib import book

    files = ["pyproject.toml", "README.md", "README.zh.md", "course_lib/__init__.py"]
    for path in TRANSLATED:
        files += [str(path.relative_to(ROOT)), str(i18n.zh_path(path).relative_to(ROOT)),
                  str(i18n.translation_path(path).relative_to(ROOT))]
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.setattr(book, "ROOT", tmp_path)
    monkeypatch.setattr(i18n, "ROOT", tmp_path)
    monkeypatch.setattr(i18n, "I18N_DIR", tmp_path / "i18n" / "zh")
    monkeypatch.setattr(i18n, "ZH_DIR", tmp_path / "zh")
    old = book.repository()
    changed = {str(p.relative_to(tmp_path)) for p in book.retarget("my-school/keras-course-2027")}
    assert {"zh/notebooks/00_getting_started.ipynb", "i18n/zh/notebooks/00_getting_started.md"} <= changed
    for path in i18n.translated_notebooks():
        row = i18n.status([path])[0]
        assert row.ok, row.problems()
        assert i18n.zh_path(path).read_text(encoding="utf-8") == i18n.render_notebook(path)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert old not in path.read_text(encoding="utf-8"), path


@pytest.mark.parametrize("text, expected", [
    ("第一行\n第二行", "第一行第二行"),                       # a newline between 汉字 would render as a space
    ("三行一\n三行二\n三行三", "三行一三行二三行三"),
    ("中文结尾，\n下一行", "中文结尾，下一行"),                   # full-width punctuation counts as CJK
    ("网页——\n和一个", "网页——和一个"),                         # so do —— … and curly quotes next to 汉字
    ("word—\nnext", "word—\nnext"),
    ("- 列表一很长\n  接着写", "- 列表一很长接着写"),               # a list item's continuation line
    ("English line\nnext", "English line\nnext"),               # only between two CJK characters
    ("中文 `code`\n继续", "中文 `code`\n继续"),
    ("- 列表一\n- 列表二", "- 列表一\n- 列表二"),                 # a new block is never joined
    ("| 表 | 格 |\n|---|---|\n| 中 | 文 |", "| 表 | 格 |\n|---|---|\n| 中 | 文 |"),
    ("```\n注释一\n注释二\n```", "```\n注释一\n注释二\n```"),
    ("$$\n中\n文\n$$", "$$\n中\n文\n$$"),
    ("段落一\n\n段落二", "段落一\n\n段落二"),
    ("## 标题\n正文", "## 标题\n正文"),
    ("硬换行  \n下一行", "硬换行  \n下一行"),
])
def test_soft_wrapped_chinese_lines_are_joined(text, expected):
    assert i18n._join_cjk_lines(text) == expected


def test_built_chinese_notebooks_have_no_newline_between_two_hanzi():
    import re

    for path in i18n.translated_notebooks()[:4]:
        for cell in i18n.build_notebook(path).cells:
            if cell.cell_type == "markdown" and "```" not in cell.source and "$$" not in cell.source:
                lines = cell.source.split("\n")
                for a, b in zip(lines, lines[1:]):
                    if a.strip() and b.strip() and not re.match(r"\s*([-*+]\s|\d+[.)]\s|#|\||>|<!--)", b):
                        assert not (i18n._CJK.match(a[-1]) and i18n._CJK.match(b.strip()[0])), (path, a, b)


def test_checker_lines_of_stored_outputs_are_translated_and_nothing_else():
    import nbformat as nbf

    outputs = [nbf.v4.new_output("stream", name="stdout",
                                 text="accuracy 0.97\n○ Exercise 1 · softmax over the classes of each example: not attempted yet: "
                                      "replace `raise NotImplementedError` with your code, then run this cell again\n"),
               nbf.v4.new_output("execute_result", data={"text/plain": "✗ Exercise 1 · x"}, execution_count=1)]
    before = [dict(o) for o in outputs]
    zh = i18n.checker_lines_translated(outputs)
    assert [dict(o) for o in outputs] == before                              # the English outputs are untouched
    assert zh[0]["text"] == ("accuracy 0.97\n○ 练习 1 · 对每个样本的各类别做 softmax：尚未作答：把 `raise NotImplementedError` "
                             "换成你的代码，然后重新运行这个单元格\n")
    assert zh[1] == outputs[1]                                                # only printed text changes
    assert i18n.checker_lines_translated(outputs, "en") == outputs
