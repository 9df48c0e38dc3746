"""The course as a book site (``make book``), and the one place that names the repository.

- :func:`repository` reads ``owner/name`` from ``[project.urls]`` in ``pyproject.toml``; the Colab
  badges, the setup cells' clone URL, ``course_lib.REPO`` and the book's buttons all use it, and
  :func:`retarget` rewrites every one of them for an instructor's fork
  (``python -m course_lib retarget OWNER/NAME``);
- :func:`read_glossary` / :func:`read_errata` read the two data files in ``book/`` (tab-separated,
  one row each) and :func:`write_generated_pages` renders them, with the syllabus, as pages;
- :func:`build` runs Sphinx on the *stored* notebooks (nothing is executed), offline.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BOOK_DIR", "ErratumRow", "GlossaryRow", "build", "heading_anchor", "headings", "read_errata",
    "read_glossary", "repository", "retarget", "write_generated_pages",
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
    return ([ROOT / "pyproject.toml", ROOT / "README.md", ROOT / "course_lib" / "__init__.py"]
            + sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb")))


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
    for path in _files_naming_the_repository():
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


def build(out: Path | None = None, quiet: bool = True) -> Path:
    """Build the site into ``out`` (default ``_build/html``) from the stored notebooks; returns it.

    Raises:
        RuntimeError: when Sphinx fails (its last lines are in the message).
    """
    out = Path(out or ROOT / "_build" / "html")
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(BOOK_DIR), "-j", "2",
           *(["-q"] if quiet else []), str(ROOT), str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"sphinx-build failed:\n{tail}")
    return out
