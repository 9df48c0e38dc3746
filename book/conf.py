"""Sphinx configuration of the course's book site (`make book`).

The site is built from the *stored* notebooks (they are committed executed; nothing is run here) with
myst-nb, themed by sphinx-book-theme, with MathJax bundled (sphinx-mathjax-offline) so that math and
search work with no network at build or view time. The source folder is the repository root; only
the pages listed in ``include_patterns`` are read.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib import book  # noqa: E402  (the pages generated from data files)

REPO = book.repository()
book.write_generated_pages()

project = "AI large models from first principles · AI大模型原理"
author = "the course's authors"
copyright = "the course's authors; code MIT, text and figures CC BY 4.0"
language = "en"

extensions = ["myst_nb", "sphinx_copybutton", "sphinx-mathjax-offline"]
root_doc = "book/index"
include_patterns = ["book/*.md", "book/_generated/*.md", "notebooks/*.ipynb", "solutions/*.ipynb"]
exclude_patterns = ["_build", ".venv", ".venv-compat", "**/.ipynb_checkpoints"]

nb_execution_mode = "off"  # the stored outputs are the course's proof; the book never re-runs them
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 4
suppress_warnings = ["mystnb.unknown_mime_type", "misc.highlighting_failure"]

html_theme = "sphinx_book_theme"
html_title = "AI large models from first principles"
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
    from the network), while the badge still links to Colab."""
    source[0] = source[0].replace(COLAB_BADGE, "/book/_static/colab-badge.svg")


def _redirect_root(app, exc):
    """The landing page is book/index.html; a reader who opens the site's root is sent there."""
    if exc is None and app.builder.format == "html":
        (Path(app.outdir) / "index.html").write_text(
            '<!doctype html><meta charset="utf-8"><title>AI large models from first principles</title>'
            '<meta http-equiv="refresh" content="0; url=book/index.html">'
            '<p><a href="book/index.html">AI large models from first principles</a></p>\n', encoding="utf-8")


def setup(app):
    app.connect("source-read", _local_badge)
    app.connect("build-finished", _redirect_root)
