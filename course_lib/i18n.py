"""The Chinese edition (中文版): translation files, their verification, and the Chinese notebooks.

The English notebooks stay the single source of code and outputs. A translation file
``i18n/zh/{notebooks,solutions}/NN_name.md`` holds one block per translated cell::

    <!-- cell ID en HASH -->
    the Chinese text of the cell (for a code cell: its whole source, only the # comments translated)

(``HASH`` = first 12 hex digits of sha256 of the English cell's source). Every markdown cell and every
code cell with a ``#`` comment needs a block.

- :func:`parse_translation` / :func:`read_translation` read a file into :class:`Block` objects;
- :func:`verify` compares them with the English notebook: translated / stale / missing / orphan /
  code mismatch (a code block that differs from the English cell other than in comments);
- :func:`build_notebook` makes the Chinese notebook from the *executed* English one (same cells, ids,
  tags, outputs; prose and comments translated, ``setup_notebook(..., lang="zh")``, Colab badge and
  links that leave the zh tree rewritten) and :func:`write_notebooks` stores it in ``zh/``;
- :func:`skeleton` writes or updates a translation file with English text in the blocks to translate;
- :func:`readme_syllabus` / :func:`update_readme` point README.zh.md's syllabus at the Chinese notebooks
  of the translated chapters and at the English ones (marked 英文) for the others;
- :func:`status` and :func:`format_status` give the per-notebook table of ``python -m course_lib zh status``.
"""

from __future__ import annotations

import copy
import hashlib
import io
import posixpath
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from course_lib._validate import check_arguments

__all__ = [
    "Block", "TranslationError", "NotebookStatus", "cell_hash", "needs_block", "parse_translation",
    "read_translation", "checker_lines_translated", "translation_path", "zh_path", "english_path", "translated_notebooks",
    "code_matches", "add_language_to_setup", "rewrite_links", "verify", "status", "format_status",
    "build_notebook", "render_notebook", "write_notebooks", "skeleton", "readme_syllabus", "update_readme",
]

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("notebooks", "solutions")
LANGUAGE = "zh"
I18N_DIR = ROOT / "i18n" / LANGUAGE
ZH_DIR = ROOT / LANGUAGE
MARK = re.compile(r"^<!-- cell (\S+) en ([0-9a-f]{12}) -->$", re.M)
_ANY_MARK = re.compile(r"^<!--\s*cell\b.*-->\s*$", re.M)
_BADGE = re.compile(r"(https://colab\.research\.google\.com/github/[^/\s)]+/[^/\s)]+/blob/[^/\s)]+/)(notebooks|solutions)/")
_SETUP = re.compile(r"(setup_notebook\()([^()\n]*)(\))")
_MD_LINK = re.compile(r"(\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")
_HTML_LINK = re.compile(r"((?:href|src)=\")([^\"]+)(\")")


class TranslationError(ValueError):
    """A translation file that cannot be parsed, or a notebook that cannot be built from it."""


@dataclass(frozen=True)
class Block:
    """One block of a translation file: the English cell's id and source hash, and its translation."""

    cell_id: str
    hash: str
    text: str


@dataclass
class NotebookStatus:
    """How a translation file stands against its English notebook (cell ids in each list)."""

    notebook: str
    translated: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    orphan: list[str] = field(default_factory=list)
    mismatch: list[str] = field(default_factory=list)
    #: current blocks whose text is still the English source (informational: a formula-only or
    #: comment-free cell may rightly stay as it is)
    english: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the Chinese notebook can be built: nothing stale, missing, orphan or mismatched."""
        return not (self.stale or self.missing or self.orphan or self.mismatch)

    def problems(self) -> str:
        """One line naming the cells of every problem (empty when :attr:`ok`)."""
        parts = []
        for name in ("stale", "missing", "orphan", "mismatch"):
            ids = getattr(self, name)
            if ids:
                label = "code mismatch" if name == "mismatch" else name
                parts.append(f"{label}: {', '.join(ids)}")
        return "; ".join(parts)


# --- cells -------------------------------------------------------------------------------------

def cell_hash(source: str) -> str:
    """The first 12 hex digits of sha256 of a cell's source (UTF-8): the ``en HASH`` of its marker."""
    check_arguments(cell_hash, locals(), source="own")
    if not isinstance(source, str):
        raise TypeError(f"expected source to be a str (a cell's source), got {type(source).__name__}")
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]


def _has_comment(source: str) -> bool:
    # exactly the rule of the skeleton script the translators use (zh-format.md)
    try:
        return any(t.type == tokenize.COMMENT for t in tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return "#" in source


def needs_block(cell: Any) -> bool:
    """Whether a notebook cell needs a translation block: every markdown cell, and every code cell
    that contains a ``#`` comment."""
    try:
        kind, source = cell["cell_type"], cell["source"]
    except (TypeError, KeyError, IndexError, ValueError):
        raise TypeError(f"expected cell to be a notebook cell (with cell_type and source), got {cell!r:.60}") from None
    if isinstance(source, list):
        source = "".join(source)
    return kind == "markdown" or (kind == "code" and _has_comment(source))


def _magic_free(source: str) -> tuple[str, list[str]]:
    """The source with IPython ``!``/``%`` lines replaced by a placeholder, and those lines."""
    lines, magics = [], []
    for line in source.splitlines(keepends=True):
        stripped = line.lstrip()
        if stripped.startswith(("!", "%")):
            indent = line[: len(line) - len(stripped)]
            lines.append(f"{indent}__ipython_magic__\n")
            magics.append(stripped.rstrip())
        else:
            lines.append(line)
    return "".join(lines), magics


def _code_tokens(source: str) -> list[tuple[int, str]] | None:
    text, magics = _magic_free(source)
    try:
        tokens = [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(text).readline)
                  if t.type not in (tokenize.COMMENT, tokenize.NL)]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    # the newline that ends the last line may or may not be there; it is not code
    while tokens and tokens[-1][0] in (tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.DEDENT) and not tokens[-1][1].strip():
        tokens.pop()
    return tokens + [(-1, m) for m in magics]


def code_matches(english: str, translated: str) -> bool:
    """Whether two code cells are the same code apart from their ``#`` comments.

    Compares the token streams of :mod:`tokenize` without COMMENT and NL tokens (so a comment may be
    longer, shorter or on more lines), IPython ``!``/``%`` lines character by character; sources that
    do not tokenize must be identical.
    """
    check_arguments(code_matches, locals(), english="own", translated="own")
    for name, value in (("english", english), ("translated", translated)):
        if not isinstance(value, str):
            raise TypeError(f"expected {name} to be a str (a code cell's source), got {type(value).__name__}")
    a, b = _code_tokens(english), _code_tokens(translated)
    if a is None or b is None:
        return english == translated
    return a == b


def add_language_to_setup(source: str, lang: str = LANGUAGE) -> str:
    """The setup cell's ``course_lib.setup_notebook(...)`` call with ``lang=...`` added (or replaced).

    Sources without the call are returned unchanged.

    Raises:
        TranslationError: when the call spans several lines (it cannot be rewritten safely).
    """
    check_arguments(add_language_to_setup, locals(), source="own", lang="own")
    if not isinstance(source, str):
        raise TypeError(f"expected source to be a str, got {type(source).__name__}")
    if lang not in ("en", "zh"):
        raise ValueError(f"expected lang to be 'en' or 'zh', got {lang!r}")
    if "setup_notebook(" not in source:
        return source

    def repl(m: re.Match[str]) -> str:
        args = [a.strip() for a in m.group(2).split(",") if a.strip() and not a.strip().startswith("lang=")]
        return m.group(1) + ", ".join([*args, f'lang="{lang}"']) + m.group(3)

    new, count = _SETUP.subn(repl, source)
    if count != source.count("setup_notebook("):
        raise TranslationError("the setup_notebook(...) call must fit on one line to get lang= added")
    return new


# --- links -------------------------------------------------------------------------------------

def _rewrite_target(target: str, folder: str, translated: set[str]) -> str:
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith(("#", "/")):
        return target  # absolute URL, anchor, site-absolute path
    path, hash_, fragment = target.partition("#")
    if not path:
        return target
    # where the English notebook's link leads, relative to the repository root
    resolved = posixpath.normpath(posixpath.join(folder, path))
    if resolved.startswith("../"):
        return target  # leaves the repository: unchanged
    top = resolved.split("/")[0]
    if top in FOLDERS and resolved.endswith(".ipynb") and resolved.count("/") == 1:
        if resolved in translated:
            return target  # the Chinese notebook is next to this one in the zh tree
        new = "../../" + resolved
    elif resolved == "README.md":
        new = "../../README.zh.md"
    else:
        new = "../../" + resolved
    return new + hash_ + fragment


def rewrite_links(markdown: str, folder: str, translated: Iterable[str] = ()) -> str:
    """Make the relative links of a markdown cell of ``folder`` (``notebooks`` or ``solutions``) work
    from ``zh/<folder>/``.

    Links to a notebook that has a translation (``translated``: paths like
    ``"solutions/05_x.ipynb"``) stay as they are and so lead to the Chinese one; links to untranslated
    notebooks lead to the English notebook; ``README.md`` becomes ``README.zh.md``; every other relative
    link (``../datasets/``, ``../book/...``) gets one more ``../``. The Colab badge opens the zh path.
    """
    check_arguments(rewrite_links, locals(), markdown="own", folder="own", translated="own")
    if not isinstance(markdown, str):
        raise TypeError(f"expected markdown to be a str, got {type(markdown).__name__}")
    if folder not in FOLDERS:
        raise ValueError(f"expected folder to be one of {FOLDERS}, got {folder!r}")
    if isinstance(translated, (str, bytes)) or not hasattr(translated, "__iter__") or \
            not all(isinstance(t, str) for t in translated):
        raise TypeError(f"expected translated to be a collection of paths like 'notebooks/05_x.ipynb', got {translated!r:.60}")
    done = set(translated)
    text = _BADGE.sub(rf"\g<1>{LANGUAGE}/\2/", markdown)
    text = _MD_LINK.sub(lambda m: m.group(1) + _rewrite_target(m.group(2), folder, done) + m.group(3), text)
    return _HTML_LINK.sub(lambda m: m.group(1) + _rewrite_target(m.group(2), folder, done) + m.group(3), text)


# --- translation files -------------------------------------------------------------------------

def _strip_blank_lines(text: str) -> str:
    text = re.sub(r"\A(?:[ \t]*\n)+", "", text)
    return re.sub(r"(?:\n[ \t]*)+\Z", "", text)


def parse_translation(text: str) -> list[Block]:
    """The blocks of a translation file's text, in order.

    Raises:
        TranslationError: for text before the first marker, a malformed marker line, or a cell id
            with two blocks.
    """
    check_arguments(parse_translation, locals(), text="own")
    if not isinstance(text, str):
        raise TypeError(f"expected text to be a str (a translation file), got {type(text).__name__}")
    for m in _ANY_MARK.finditer(text):
        if not MARK.fullmatch(m.group().rstrip()):
            line = text.count("\n", 0, m.start()) + 1
            raise TranslationError(f"line {line}: malformed marker {m.group().strip()!r}; expected "
                                   "'<!-- cell ID en HASH -->' with HASH of 12 hex digits")
    parts = MARK.split(text)
    if parts[0].strip():
        raise TranslationError(f"text before the first marker: {parts[0].strip()[:60]!r}")
    blocks, seen = [], set()
    for i in range(1, len(parts), 3):
        cell_id, h, body = parts[i], parts[i + 1], parts[i + 2]
        if cell_id in seen:
            raise TranslationError(f"cell {cell_id} has two blocks")
        seen.add(cell_id)
        blocks.append(Block(cell_id, h, _strip_blank_lines(body)))
    return blocks


def read_translation(path: Path) -> list[Block]:
    """The blocks of a translation file (see :func:`parse_translation`); errors name the file."""
    check_arguments(read_translation, locals())
    path = Path(path)
    try:
        return parse_translation(path.read_text(encoding="utf-8"))
    except TranslationError as err:
        raise TranslationError(f"{path}: {err}") from None


def _english(path: Path, name: str = "path") -> Path:
    path = Path(path).resolve()
    if path.suffix != ".ipynb" or path.parent.name not in FOLDERS:
        raise ValueError(f"expected {name} to be an English notebook notebooks/NN_x.ipynb or solutions/NN_x.ipynb, got {path}")
    return path


def translation_path(path: Path) -> Path:
    """``i18n/zh/<folder>/<stem>.md`` for an English notebook ``<folder>/<stem>.ipynb``."""
    check_arguments(translation_path, locals())
    path = _english(path)
    return I18N_DIR / path.parent.name / f"{path.stem}.md"


def zh_path(path: Path) -> Path:
    """``zh/<folder>/<name>.ipynb``, where the Chinese notebook of an English one is stored."""
    check_arguments(zh_path, locals())
    path = _english(path)
    return ZH_DIR / path.parent.name / path.name


def english_path(path: Path) -> Path:
    """The English notebook of a translation file or of a Chinese notebook."""
    check_arguments(english_path, locals())
    path = Path(path)
    if path.parent.name not in FOLDERS or path.suffix not in (".md", ".ipynb"):
        raise ValueError(f"expected path to be i18n/zh/<folder>/NN_x.md or zh/<folder>/NN_x.ipynb, got {path}")
    return ROOT / path.parent.name / f"{path.stem}.ipynb"


def translated_notebooks() -> list[Path]:
    """The English notebooks that have a translation file, notebooks first, in chapter order."""
    return [ROOT / f / f"{p.stem}.ipynb" for f in FOLDERS for p in sorted((I18N_DIR / f).glob("[0-9][0-9]_*.md"))
            if (ROOT / f / f"{p.stem}.ipynb").exists()]


def _translated_set() -> set[str]:
    return {f"{p.parent.name}/{p.name}" for p in translated_notebooks()}


def _read_notebook(path: Path) -> Any:
    import nbformat

    return nbformat.read(Path(path), as_version=4)


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def verify(notebook: Any, blocks: Iterable[Block], name: str = "notebook") -> NotebookStatus:
    """Compare a translation's blocks with an (English) notebook object; see :class:`NotebookStatus`.

    - translated: a block whose id and hash match a cell that needs one (and, for code, whose code
      equals the cell's apart from comments);
    - stale: the block's hash is not that of the cell's source now;
    - missing: a cell that needs a block has none;
    - orphan: a block whose cell no longer exists (or no longer needs one: a code cell without comments);
    - mismatch: a current code block whose code differs from the English cell other than in comments.
    """
    check_arguments(verify, locals(), notebook=None, blocks=None)
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise TypeError(f"expected notebook to be a notebook (nbformat), got {type(notebook).__name__}")
    if isinstance(blocks, (str, bytes, dict)) or not hasattr(blocks, "__iter__"):
        raise TypeError(f"expected blocks to be a list of Block objects, got {type(blocks).__name__}")
    blocks = list(blocks)
    if not all(isinstance(b, Block) for b in blocks):
        raise TypeError("expected blocks to be Block objects (from parse_translation)")
    by_id = {b.cell_id: b for b in blocks}
    result = NotebookStatus(str(name))
    wanted = set()
    for cell in notebook["cells"]:
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        cid = cell.get("id")
        if not needs_block(cell):
            continue
        wanted.add(cid)
        block = by_id.get(cid)
        if block is None:
            result.missing.append(cid)
        elif block.hash != cell_hash(source):
            result.stale.append(cid)
        elif cell["cell_type"] == "code" and not code_matches(source, block.text):
            result.mismatch.append(cid)
        else:
            result.translated.append(cid)
            if block.text == _strip_blank_lines(source):
                result.english.append(cid)
    result.orphan = [b.cell_id for b in blocks if b.cell_id not in wanted]
    return result


def _paths(paths: Any) -> list[Path]:
    if isinstance(paths, (str, bytes, Path)) or not hasattr(paths, "__iter__") or \
            not all(isinstance(p, (str, Path)) for p in paths):
        raise TypeError(f"expected paths to be a list of notebook paths, got {paths!r:.60}")
    return [_english(Path(p), "paths") for p in paths]


def status(paths: Iterable[Path] | None = None) -> list[NotebookStatus]:
    """:func:`verify` for each English notebook of ``paths`` that has a translation file (default: all)."""
    rows = []
    for path in (translated_notebooks() if paths is None else _paths(paths)):
        tpath = translation_path(path)
        rows.append(verify(_read_notebook(path), read_translation(tpath), _rel(path)))
    return rows


def format_status(rows: Iterable[NotebookStatus], untranslated: Iterable[str] = ()) -> str:
    """The table of ``python -m course_lib zh status``: counts per notebook, then the cells to fix."""
    if isinstance(rows, (str, bytes, dict)) or not hasattr(rows, "__iter__"):
        raise TypeError(f"expected rows to be a list of NotebookStatus objects, got {type(rows).__name__}")
    rows = list(rows)
    if not all(isinstance(r, NotebookStatus) for r in rows):
        raise TypeError("expected rows to be NotebookStatus objects (from status)")
    if isinstance(untranslated, (str, bytes)) or not hasattr(untranslated, "__iter__") or \
            not all(isinstance(u, str) for u in untranslated):
        raise TypeError(f"expected untranslated to be a list of notebook names, got {untranslated!r:.60}")
    out = ["| notebook | translated | still English | stale | missing | orphan | code mismatch | state |",
           "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        state = "ok" if r.ok else "FIX: " + r.problems()
        out.append(f"| {r.notebook} | {len(r.translated)} | {len(r.english)} | {len(r.stale)} | {len(r.missing)} | "
                   f"{len(r.orphan)} | {len(r.mismatch)} | {state} |")
    for name in untranslated:
        out.append(f"| {name} | - | - | - | - | - | - | not yet translated |")
    return "\n".join(out)


# --- building ----------------------------------------------------------------------------------

def build_notebook(path: Path, translation: Path | None = None) -> Any:
    """The Chinese notebook of the executed English notebook ``path`` (an nbformat object).

    Same cells, ids, metadata, tags and outputs (copied, the checkers' status and summary lines in
    Chinese: :func:`checker_lines_translated`); markdown and commented code cells
    replaced by their translations; ``setup_notebook(..., lang="zh")``; the Colab badge and relative
    links rewritten for ``zh/<folder>/``; soft-wrapped Chinese lines joined (a newline between two 汉字
    would render as a space); ``metadata.course.language = "zh"``.

    Raises:
        TranslationError: naming the cells, when anything is stale, missing, orphan or mismatched.
    """
    check_arguments(build_notebook, locals())
    path = _english(path)
    tpath = Path(translation) if translation is not None else translation_path(path)
    nb = _read_notebook(path)
    blocks = read_translation(tpath)
    result = verify(nb, blocks, _rel(path))
    if not result.ok:
        raise TranslationError(f"{_rel(tpath)} does not match {_rel(path)}: {result.problems()} "
                               f"(update it: python -m course_lib zh skeleton {path.stem[:2]} --update)")
    by_id = {b.cell_id: b.text for b in blocks}
    done = _translated_set() | {f"{path.parent.name}/{path.name}"}
    out = copy.deepcopy(nb)
    for cell in out.cells:
        if cell.id in by_id:
            cell.source = by_id[cell.id]
        if cell.cell_type == "markdown":
            cell.source = _join_cjk_lines(rewrite_links(cell.source, path.parent.name, done))
        elif cell.cell_type == "code":
            cell.source = add_language_to_setup(cell.source, LANGUAGE)
            cell.outputs = checker_lines_translated(cell.outputs)
    out.metadata["course"] = {"language": LANGUAGE, "translated_from": f"{path.parent.name}/{path.name}"}
    return out


def render_notebook(path: Path) -> str:
    """The exact text :func:`write_notebooks` stores for the English notebook ``path``."""
    check_arguments(render_notebook, locals())
    import nbformat

    text = nbformat.writes(build_notebook(path))
    return text if text.endswith("\n") else text + "\n"


def write_notebooks(paths: Iterable[Path] | None = None) -> list[Path]:
    """Build and store the Chinese notebooks of ``paths`` (default: every translated notebook).

    Every notebook is checked first; nothing is written when one of them fails.

    Raises:
        TranslationError: naming the notebooks and cells that are stale, missing or mismatched.
    """
    paths = translated_notebooks() if paths is None else _paths(paths)
    for p in paths:
        if not translation_path(p).exists():
            raise TranslationError(f"{_rel(p)} has no translation file ({_rel(translation_path(p))}); "
                                   f"make one: python -m course_lib zh skeleton {Path(p).stem[:2]}")
    texts, errors = {}, []
    for p in paths:
        try:
            texts[zh_path(p)] = render_notebook(p)
        except TranslationError as err:
            errors.append(str(err))
    if errors:
        raise TranslationError("\n".join(errors))
    for target, text in texts.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
    return list(texts)


def skeleton(path: Path, out: Path | None = None, update: bool = False) -> tuple[Path, list[str]]:
    """Write the translation file of the English notebook ``path`` with its English text in every
    block, ready to translate in place; returns the file and the ids of the cells to translate.

    With ``update=True`` the blocks of the existing file whose (id, hash) still match are kept, and
    every other block is written in English (the cells to re-translate). Without it, an existing
    file is refused (it would lose its translations).

    Raises:
        TranslationError: when ``out`` exists and ``update`` is False.
        FileNotFoundError: when ``update`` is True and ``out`` does not exist.
    """
    check_arguments(skeleton, locals())
    path = _english(path)
    out = Path(out) if out is not None else translation_path(path)
    old: dict[tuple[str, str], str] = {}
    if update:
        if not out.exists():
            raise FileNotFoundError(f"{out}: no translation to update; run without --update to make one")
        old = {(b.cell_id, b.hash): b.text for b in read_translation(out)}
    elif out.exists():
        raise TranslationError(f"{out} exists: expected update=True (--update), which keeps its translations "
                               "and adds the new cells, or another out")
    nb = _read_notebook(path)
    lines, todo = [], []
    for c in nb.cells:
        if needs_block(c):
            h = cell_hash(c.source)
            body = old.get((c.id, h))
            if body is None:
                body = c.source
                todo.append(c.id)
            lines.append(f"<!-- cell {c.id} en {h} -->\n{body}\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    return out, todo


# --- README.zh.md ------------------------------------------------------------------------------

ENGLISH_MARK = "（英文）"
_ROW_LINK = re.compile(r"\[([^\]]+)\]\((?:zh/)?(notebooks|solutions)/([0-9][0-9]_[\w-]+\.ipynb)\)(?:（英文）)?")


def readme_syllabus(text: str, translated: Iterable[str] | None = None) -> str:
    """README.zh.md's text with every link to a chapter notebook pointing at the Chinese notebook when it
    is translated (``zh/notebooks/...``) and at the English one, marked （英文）, when it is not.

    ``translated``: paths like ``"notebooks/05_x.ipynb"`` (default: those with a translation file).
    """
    check_arguments(readme_syllabus, locals(), text="own", translated="own")
    if not isinstance(text, str):
        raise TypeError(f"expected text to be a str (README.zh.md), got {type(text).__name__}")
    if translated is not None and (isinstance(translated, (str, bytes)) or not hasattr(translated, "__iter__")
                                   or not all(isinstance(t, str) for t in translated)):
        raise TypeError(f"expected translated to be a list of paths like 'notebooks/05_x.ipynb', got {translated!r:.60}")
    done = _translated_set() if translated is None else set(translated)

    def repl(m: re.Match[str]) -> str:
        rel = f"{m.group(2)}/{m.group(3)}"
        return f"[{m.group(1)}](zh/{rel})" if rel in done else f"[{m.group(1)}]({rel}){ENGLISH_MARK}"

    return _ROW_LINK.sub(repl, text)


def update_readme(path: Path | None = None) -> bool:
    """Rewrite README.zh.md's chapter links with :func:`readme_syllabus`; True when it changed."""
    check_arguments(update_readme, locals())
    path = Path(path) if path is not None else ROOT / "README.zh.md"
    text = path.read_text(encoding="utf-8")
    new = readme_syllabus(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


_CJK = re.compile(r"[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
_CJK_EDGE = re.compile(_CJK.pattern[:-1] + "\u2014\u2026\u201c\u201d\u2018\u2019]")  # with —— … “ ” ‘ ’
_BLOCK_START = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|#|\||>|```|~~~|\$\$|<!--)")


def _join_cjk_lines(markdown: str) -> str:
    """Join the soft-wrapped lines of Chinese paragraphs: a newline between two Chinese characters.

    Markdown renders a single newline inside a paragraph as a space, which is right between English
    words and wrong between 汉字 (Jupyter and the book would show 第一 二 for 第一\\n二). A line is joined
    to the next when the first ends and the next starts (after its indentation) with a CJK character or
    full-width punctuation, neither is blank, the next does not start a block (list item, heading,
    table row, quote, fence, $$, comment), the first does not end in a hard break, and neither is inside
    a fenced code or $$ math block. Everything else is left as written.
    """
    lines = markdown.split("\n")
    out: list[str] = []
    fence = math = False
    for line in lines:
        stripped = line.strip()
        if out and not fence and not math and stripped and not _BLOCK_START.match(line):
            prev = out[-1]
            end, start = prev[-1:], stripped[0]
            if (prev.strip() and not prev.endswith(("  ", "\\")) and not prev.lstrip().startswith(("|", "#", "```", "~~~", "$$"))
                    and _CJK_EDGE.match(end) and _CJK_EDGE.match(start) and (_CJK.match(end) or _CJK.match(start))):
                out[-1] = prev + stripped
                continue
        if stripped.startswith(("```", "~~~")):
            fence = not fence
        elif not fence and stripped.startswith("$$") and not (len(stripped) > 2 and stripped.endswith("$$")):
            math = not math
        out.append(line)
    return "\n".join(out)


def checker_lines_translated(outputs: Any, lang: str = LANGUAGE) -> Any:
    """A code cell's stored outputs with the exercise checkers' lines in ``lang``.

    Only printed text (``stream`` outputs) changes, and in it only the lines an exercise checker prints
    (its status line, ``✓ Exercise 1 · title: ...``, and a chapter's summary), through the catalogue of
    :mod:`course_lib.messages`; every other line, and every other output, is copied as it is. So the
    Chinese notebook shows the same feedback a student who re-runs the cell gets.
    """
    from course_lib import messages

    result = copy.deepcopy(list(outputs))
    for out in result:
        if out.get("output_type") == "stream":
            text = out["text"] if isinstance(out["text"], str) else "".join(out["text"])
            out["text"] = messages.translate_output(text, lang)
    return result
