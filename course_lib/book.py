"""The course as a book site (``make book``), and the one place that names the repository.

- :func:`repository` reads ``owner/name`` from ``[project.urls]`` in ``pyproject.toml``; the Colab
  badges, the setup cells' clone URL, ``course_lib.REPO`` and the book's buttons all use it, and
  :func:`retarget` rewrites every one of them for an instructor's fork
  (``python -m course_lib retarget OWNER/NAME``);
- :func:`read_glossary` / :func:`read_errata` read the two data files in ``book/`` (tab-separated,
  one row each) and :func:`write_generated_pages` renders them, with the syllabus, as pages;
- :func:`build` runs Sphinx on the *stored* notebooks (nothing is executed), offline, in both
  languages: English into ``_build/html`` and the Chinese edition (the built ``zh/`` notebooks, with
  ``README.zh.md`` as its index) into ``_build/html/zh``; :func:`language_switch` gives every page's
  link to the same page in the other language.
"""

from __future__ import annotations

import csv
import json
import posixpath
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BOOK_DIR", "ErratumRow", "GlossaryRow", "build", "heading_anchor", "headings", "language_switch",
    "read_errata", "read_glossary", "repository", "retarget", "write_generated_pages",
    "write_generated_pages_zh", "zh_documents", "zh_outside_links",
]

ROOT = Path(__file__).resolve().parents[1]
BOOK_DIR = ROOT / "book"
GENERATED = BOOK_DIR / "_generated"
_REPO_RX = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_URL_RX = re.compile(r'^Repository\s*=\s*"https://github\.com/([^"]+)"\s*$', re.M)


def repository(pyproject: Path | None = None) -> str:
    """``owner/name`` of the course's GitHub repository, from ``[project.urls] Repository``.

    Raises:
        ValueError: when ``pyproject.toml`` names no GitHub repository there.
    """
    text = Path(pyproject or ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = _URL_RX.search(text)
    if not found or not _REPO_RX.match(found.group(1)):
        raise ValueError('pyproject.toml: expected [project.urls] Repository = "https://github.com/OWNER/NAME"')
    return found.group(1)


def _files_naming_the_repository() -> list[Path]:
    # the Chinese edition's notebooks, README and translation files too (after the English notebooks:
    # the translation files' markers are updated from the English cells' new sources)
    return ([ROOT / "pyproject.toml", ROOT / "README.md", ROOT / "README.zh.md", ROOT / "course_lib" / "__init__.py"]
            + sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
            + sorted((ROOT / "zh" / "notebooks").glob("*.ipynb")) + sorted((ROOT / "zh" / "solutions").glob("*.ipynb"))
            + sorted((ROOT / "i18n" / "zh" / "notebooks").glob("*.md"))
            + sorted((ROOT / "i18n" / "zh" / "solutions").glob("*.md")))


def retarget(new: str) -> list[Path]:
    """Make every badge, clone URL and link name ``new`` (``OWNER/NAME``) instead of the current
    repository; returns the files changed. Notebooks' cell sources change, their outputs do not.

    Raises:
        ValueError: when ``new`` is not of the form ``OWNER/NAME``.
    """
    if not isinstance(new, str) or not _REPO_RX.match(new):
        raise ValueError(f"expected the repository as OWNER/NAME (e.g. my-school/keras-course), got {new!r}")
    old = repository()
    if new == old:
        return []
    pattern = re.compile(rf"(?<![\w.-]){re.escape(old)}(?![\w-])")
    changed = []
    markers: dict[str, str] = {}  # a translation block's marker before -> after (its English cell changed)
    for path in _files_naming_the_repository():
        if not path.exists():
            continue
        if path.suffix == ".ipynb" and path.parent.parent == ROOT:
            from course_lib.i18n import cell_hash

            for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
                src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                if pattern.search(src) and "id" in cell:
                    before, after = cell_hash(src), cell_hash(pattern.sub(new, src))
                    markers[f"<!-- cell {cell['id']} en {before} -->"] = f"<!-- cell {cell['id']} en {after} -->"
        if path.suffix == ".md" and path.parent.parent.name == "zh" and path.parents[2].name == "i18n":
            text = path.read_text(encoding="utf-8")
            new_text = re.sub(r"^<!-- cell \S+ en [0-9a-f]{12} -->$", lambda m: markers.get(m.group(), m.group()),
                              pattern.sub(new, text), flags=re.M)
            if new_text != text:
                path.write_text(new_text, encoding="utf-8")
                changed.append(path)
            continue
        if path.suffix == ".ipynb":
            nb = json.loads(path.read_text(encoding="utf-8"))
            touched = False
            for cell in nb["cells"]:
                src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                if pattern.search(src):
                    new_src = pattern.sub(new, src)
                    cell["source"] = new_src.splitlines(keepends=True) if isinstance(cell["source"], list) else new_src
                    touched = True
            if touched:
                path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
                changed.append(path)
        else:
            text = path.read_text(encoding="utf-8")
            if pattern.search(text):
                path.write_text(pattern.sub(new, text), encoding="utf-8")
                changed.append(path)
    return changed


# --- headings and their anchors --------------------------------------------------------------

def _plain(markdown: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)  # links and images keep their text
    return re.sub(r"[*_`]", "", text).strip()


def heading_anchor(title: str) -> str:
    """The anchor MyST gives a heading (GitHub-style slug of its text)."""
    from myst_parser.slugs import github_slugify

    return github_slugify(_plain(title))


def headings(notebook: Path) -> list[tuple[int, str]]:
    """``(level, text)`` of every markdown heading of a notebook, in order."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    found = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        fenced = False
        for line in "".join(cell["source"]).splitlines():
            if line.startswith("```"):
                fenced = not fenced
            m = None if fenced else re.match(r"^(#{1,6})\s+(.*\S)\s*$", line)
            if m:
                found.append((len(m.group(1)), m.group(2)))
    return found


# --- data files ------------------------------------------------------------------------------

@dataclass(frozen=True)
class GlossaryRow:
    """One glossary entry: the English term, its Chinese term, a one-line definition, the chapter."""

    term: str
    zh: str
    definition: str
    chapter: str


@dataclass(frozen=True)
class ErratumRow:
    """One error of the sources and where the course teaches the correct version."""

    source: str
    says: str
    correction: str
    chapter: str
    section: str


def _read_tsv(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or tuple(rows[0]) != columns:
        raise ValueError(f"{path.name}: expected the header {chr(9).join(columns)!r}")
    out = []
    for n, row in enumerate(rows[1:], 2):
        if len(row) != len(columns) or not all(cell.strip() for cell in row):
            raise ValueError(f"{path.name} line {n}: expected {len(columns)} non-empty tab-separated fields, got {row!r}")
        out.append(dict(zip(columns, (c.strip() for c in row))))
    return out


def _chapter_path(chapter: str) -> Path:
    hits = sorted((ROOT / "notebooks").glob(f"{chapter}_*.ipynb"))
    if not re.fullmatch(r"\d\d", chapter) or not hits:
        raise ValueError(f"expected a chapter number like 07, got {chapter!r}")
    return hits[0]


def read_glossary(path: Path | None = None) -> list[GlossaryRow]:
    """The glossary (``book/glossary.tsv``), sorted by English term."""
    rows = [GlossaryRow(**r) for r in _read_tsv(path or BOOK_DIR / "glossary.tsv", ("term", "zh", "definition", "chapter"))]
    for r in rows:
        _chapter_path(r.chapter)
    return sorted(rows, key=lambda r: r.term.lower())


def read_errata(path: Path | None = None) -> list[ErratumRow]:
    """The sources' errata (``book/errata.tsv``); each names the heading that teaches the correction.

    Raises:
        ValueError: for a malformed row, or a section that is no heading of its chapter.
    """
    rows = [ErratumRow(**r) for r in _read_tsv(path or BOOK_DIR / "errata.tsv",
                                                ("source", "says", "correction", "chapter", "section"))]
    for r in rows:
        titles = [t for _, t in headings(_chapter_path(r.chapter))]
        if r.section not in titles:
            raise ValueError(f"errata.tsv: chapter {r.chapter} has no heading {r.section!r}")
    return rows


# --- pages -----------------------------------------------------------------------------------

def _link(chapter: str, section: str | None = None) -> str:
    target = f"../../notebooks/{_chapter_path(chapter).name}"
    return target + (f"#{heading_anchor(section)}" if section else "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _syllabus_rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| (\d\d) \| \[([^\]]+)\]\(notebooks/[^)]+\) \| (.+?) \|", line)
        if m:
            rows.append(m.groups())
    return rows


def write_generated_pages() -> list[Path]:
    """Render ``book/_generated/{syllabus,glossary,errata}.md`` from README.md and the data files."""
    GENERATED.mkdir(parents=True, exist_ok=True)
    pages = {}
    lines = ["# Syllabus · 课程大纲", "",
             "Each chapter is a notebook with its exercises; its worked solutions are a notebook of their own.",
             "", "| | chapter | what it teaches | solutions |", "|---|---|---|---|"]
    for nn, title, topics in _syllabus_rows():
        sol = f"../../solutions/{_chapter_path(nn).name}"
        lines.append(f"| {nn} | [{_cell(title)}]({_link(nn)}) | {_cell(topics)} | [solutions]({sol}) |")
    pages["syllabus.md"] = lines
    lines = ["# Glossary · 术语表", "",
             "Every technical term the course names, with its Chinese term and the chapter that teaches it.",
             "", "| term | 中文 | meaning | chapter |", "|---|---|---|---|"]
    for r in read_glossary():
        lines.append(f"| {_cell(r.term)} | {_cell(r.zh)} | {_cell(r.definition)} | [{r.chapter}]({_link(r.chapter)}) |")
    pages["glossary.md"] = lines
    lines = ["# Errata · 勘误表", "",
             "What the five source articles get wrong, and the section of the course that teaches the correct version.",
             "", "| source | the source says | correct | taught in |", "|---|---|---|---|"]
    for r in read_errata():
        lines.append(f"| {_cell(r.source)} | {_cell(r.says)} | {_cell(r.correction)} | "
                     f"[{r.chapter}: {_cell(_plain(r.section))}]({_link(r.chapter, r.section)}) |")
    pages["errata.md"] = lines
    written = []
    for name, body in pages.items():
        path = GENERATED / name
        path.write_text("\n".join(body) + "\n", encoding="utf-8")
        written.append(path)
    return written


# --- the Chinese edition ----------------------------------------------------------------------

ZH_INDEX = "README.zh"  # the Chinese site's index page (docname of README.zh.md)
GLOSSARY_EN, GLOSSARY_ZH = "book/_generated/glossary", "book/_generated/zh/glossary"
BOOK_LANGUAGE_VARIABLE = "COURSE_BOOK_LANG"  # set by build() for the Chinese run of Sphinx


def zh_documents() -> list[str]:
    """Docnames of the built Chinese notebooks (``zh/notebooks/00_getting_started`` ...), in order."""
    return [f"zh/{f}/{p.stem}" for f in ("notebooks", "solutions")
            for p in sorted((ROOT / "zh" / f).glob("[0-9][0-9]_*.ipynb"))]


def language_switch(docname: str, lang: str) -> tuple[str, str]:
    """``(href, label)`` of the link from page ``docname`` of the ``lang`` site to the same page in the
    other language (relative to the page). A chapter not yet translated leads to the Chinese index.

    Raises:
        ValueError: for a language other than ``en`` or ``zh``.
    """
    if not isinstance(docname, str) or not docname:
        raise TypeError(f"expected docname to be a page name like 'notebooks/07_attention', got {docname!r}")
    if lang not in ("en", "zh"):
        raise ValueError(f"expected lang to be 'en' or 'zh', got {lang!r}")
    up = "../" * (docname.count("/") + (lang == "zh"))  # from the page to the site's root
    if lang == "en":
        zh = set(zh_documents())
        if f"zh/{docname}" in zh:
            target = f"zh/zh/{docname}"
        elif docname == GLOSSARY_EN:
            target = f"zh/{GLOSSARY_ZH}"
        else:
            target = f"zh/{ZH_INDEX}"
        label = "中文" if target != f"zh/{ZH_INDEX}" or docname == "book/index" else "中文版（本页尚未翻译）"
        return up + target + ".html", label
    if docname.startswith("zh/"):
        target = docname[3:]
    elif docname == GLOSSARY_ZH:
        target = GLOSSARY_EN
    else:
        target = "book/index"
    return up + target + ".html", "English"


def _english_page(path: str) -> str:
    """Site-root-relative page of a repository path: a notebook's page, else its GitHub address."""
    m = re.fullmatch(r"(notebooks|solutions)/([0-9][0-9]_[\w-]+)\.ipynb(#.*)?", path)
    if m:
        return f"{m.group(1)}/{m.group(2)}.html{m.group(3) or ''}"
    if path.split("#")[0] in ("README.md", ""):
        return "book/index.html"
    return f"https://github.com/{repository()}/blob/main/{path}"


def zh_outside_links(text: str, docname: str) -> str:
    """Markdown links of a Chinese page that lead out of the Chinese site (English notebooks, README.md,
    data files) as raw ``<a>`` tags to the English site's page (or GitHub), which Sphinx leaves as they
    are; links to Chinese pages stay Markdown (Sphinx resolves them)."""
    base = posixpath.dirname(docname)
    up = "../" * (docname.count("/") + 1)  # from the page (in zh/) to the site's root
    zh_docs = set(zh_documents()) | {ZH_INDEX}

    def repl(m: re.Match[str]) -> str:
        label, target = m.group(1), m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith(("#", "/")):
            return m.group(0)
        path = posixpath.normpath(posixpath.join(base, target.split("#")[0]))
        if path.rsplit(".", 1)[0] in zh_docs and path.endswith((".ipynb", ".md")):
            return m.group(0)
        page = _english_page(path + ("#" + target.split("#", 1)[1] if "#" in target else ""))
        href = page if page.startswith("https:") else up + page
        return f'<a href="{href}">{label}</a>'

    return re.sub(r"(?<!!)\[((?:[^\[\]\\\n]|\\.)+)\]\(([^)\s]+)\)", repl, text)


def write_generated_pages_zh() -> list[Path]:
    """Render ``book/_generated/zh/glossary.md``: the glossary in Chinese order of columns, from the same
    ``book/glossary.tsv`` (the single source of term translations)."""
    out = GENERATED / "zh"
    out.mkdir(parents=True, exist_ok=True)
    translated = {d.split("/")[-1][:2] for d in zh_documents() if d.startswith("zh/notebooks/")}
    lines = ["# 术语表 · Glossary", "",
             "课程中出现的每个技术术语：中文术语、英文术语、一句话定义（英文）以及讲授它的章节。"
             "本表与英文版术语表来自同一个文件 `book/glossary.tsv`。",
             "", "| 中文 | term | 定义 (definition) | 章节 |", "|---|---|---|---|"]
    for r in sorted(read_glossary(), key=lambda r: (r.chapter, r.zh)):
        name = _chapter_path(r.chapter).stem
        link = (f"[{r.chapter}](../../../zh/notebooks/{name}.ipynb)" if r.chapter in translated
                else f'<a href="../../../../notebooks/{name}.html">{r.chapter}（英文）</a>')
        lines.append(f"| {_cell(r.zh)} | {_cell(r.term)} | {_cell(r.definition)} | {link} |")
    path = out / "glossary.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [path]


def build(out: Path | None = None, quiet: bool = True) -> Path:
    """Build the site into ``out`` (default ``_build/html``) from the stored notebooks; returns it.

    The Chinese edition goes to ``out/zh`` (index: README.zh.md; its chapters: the built ``zh/``
    notebooks); every page of both has a link to the other language.

    Raises:
        RuntimeError: when Sphinx fails (its last lines are in the message).
    """
    import os

    out = Path(out or ROOT / "_build" / "html")
    runs = [("en", out)]
    if (ROOT / "README.zh.md").exists() and zh_documents():
        runs.append(("zh", out / "zh"))
    for lang, target in runs:
        cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(BOOK_DIR), "-j", "2",
               *(["-q"] if quiet else []), str(ROOT), str(target)]
        env = {**os.environ, BOOK_LANGUAGE_VARIABLE: lang}
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
            raise RuntimeError(f"sphinx-build ({lang}) failed:\n{tail}")
    return out
