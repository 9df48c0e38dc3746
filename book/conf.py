"""Sphinx configuration of the course's book site (`make book`).

The site is built from the *stored* notebooks (they are committed executed; nothing is run here) with
myst-nb, themed by sphinx-book-theme, with MathJax bundled (sphinx-mathjax-offline) so that math and
search work with no network at build or view time. The source folder is the repository root; only
the pages listed in ``include_patterns`` are read.

The same configuration builds the Chinese edition when ``COURSE_BOOK_LANG=zh`` (``course_lib.book.build``
sets it for its second run, into ``_build/html/zh``): README.zh.md is its index, its chapters are the
built ``zh/`` notebooks. Every page of both starts with a link to the same page in the other language.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib import book  # noqa: E402  (the pages generated from data files)

REPO = book.repository()
LANG = os.environ.get(book.BOOK_LANGUAGE_VARIABLE, "en")
if LANG not in ("en", "zh"):
    raise ValueError(f"expected {book.BOOK_LANGUAGE_VARIABLE} to be en or zh, got {LANG!r}")
book.write_generated_pages()
book.write_generated_pages_zh()

project = "AI large models from first principles · AI大模型原理"
author = "the course's authors"
copyright = "the course's authors; code MIT, text and figures CC BY 4.0"
language = "en"

extensions = ["myst_nb", "sphinx_copybutton", "sphinx-mathjax-offline"]
root_doc = "book/index"
include_patterns = ["book/*.md", "book/_generated/*.md", "notebooks/*.ipynb", "solutions/*.ipynb"]
if LANG == "zh":
    project = "AI大模型：从第一性原理出发"
    language = "zh_CN"  # the theme's labels in Chinese
    # Sphinx 9's Chinese search script fails in the browser ("ChineseStemmer is not defined"); the default
    # splitter finds Chinese words too (the English site's search for 注意力 is tested)
    html_search_language = "en"
    root_doc = book.ZH_INDEX
    include_patterns = [f"{book.ZH_INDEX}.md", "book/_generated/zh/*.md", "zh/notebooks/*.ipynb", "zh/solutions/*.ipynb"]
exclude_patterns = ["_build", ".venv", ".venv-compat", "**/.ipynb_checkpoints"]

nb_execution_mode = "off"  # the stored outputs are the course's proof; the book never re-runs them
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 4
suppress_warnings = ["mystnb.unknown_mime_type", "misc.highlighting_failure"]

html_theme = "sphinx_book_theme"
html_title = "AI large models from first principles" if LANG == "en" else "AI大模型：从第一性原理出发"
html_static_path = ["_static"]
html_context = {"default_mode": "light"}
html_theme_options = {
    "repository_url": f"https://github.com/{REPO}",
    "repository_branch": "main",
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "launch_buttons": {"colab_url": "https://colab.research.google.com", "notebook_interface": "jupyterlab"},
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
html_last_updated_fmt = None
html_copy_source = True
html_show_sourcelink = False


COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def _local_badge(app, docname, source):
    """The notebooks show Colab's badge image; the book serves a copy of its own (nothing is loaded
    from the network), while the badge still links to Colab. On the Chinese site, links that leave it
    (English chapters, README.md) lead to the English site's pages, and its index lists its chapters."""
    source[0] = source[0].replace(COLAB_BADGE, "/book/_static/colab-badge.svg")
    if LANG == "zh":
        if docname.startswith("zh/"):  # a notebook: its markdown cells
            nb = json.loads(source[0])
            for cell in nb["cells"]:
                if cell["cell_type"] == "markdown":
                    text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                    cell["source"] = book.zh_outside_links(text, docname)
            source[0] = json.dumps(nb, ensure_ascii=False)
        else:
            source[0] = book.zh_outside_links(source[0], docname)
        if docname == book.ZH_INDEX:
            pages = "\n".join(book.zh_documents() + [book.GLOSSARY_ZH])
            source[0] += f"\n\n```{{toctree}}\n:hidden:\n:caption: 中文版\n\n{pages}\n```\n"


def _language_switch(app, pagename, templatename, context, doctree):
    """Every page starts with a link to the same page in the other language."""
    if "body" not in context or doctree is None:
        return
    href, label = book.language_switch(pagename, LANG)
    here = "English" if LANG == "en" else "中文"
    context["body"] = (f'<p class="language-switch">{here} · <a class="language-switch-link" '
                       f'href="{href}" hreflang="{"zh" if LANG == "en" else "en"}">{label}</a></p>\n'
                       + context["body"])


def _redirect_root(app, exc):
    """The landing page is book/index.html (Chinese: README.zh.html); the site's root sends a reader there."""
    if exc is None and app.builder.format == "html":
        landing = "book/index.html" if LANG == "en" else f"{book.ZH_INDEX}.html"
        (Path(app.outdir) / "index.html").write_text(
            f'<!doctype html><meta charset="utf-8"><title>{html_title}</title>'
            f'<meta http-equiv="refresh" content="0; url={landing}">'
            f'<p><a href="{landing}">{html_title}</a></p>\n', encoding="utf-8")


def setup(app):
    app.connect("source-read", _local_badge)
    app.connect("html-page-context", _language_switch)
    app.connect("build-finished", _redirect_root)
