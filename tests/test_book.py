"""The book site: one place names the repository, the glossary and errata data are complete and their
links live, and a real browser (headless Chromium) proves every page of the built site.

The browser tests need Chromium (Debian: `apt-get install chromium`) and the `playwright` package;
without them they are skipped, unless COURSE_REQUIRE_BROWSER=1 (set by .ci/run), where they fail.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest
from nbutils import ROOT

import course_lib
from course_lib import book

CJK = re.compile(r"[\u4e00-\u9fff]")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


# --- one place names the repository ----------------------------------------------------------

def test_every_badge_and_clone_url_names_the_repository_of_pyproject():
    repo = book.repository()
    assert course_lib.REPO == repo
    for path in NOTEBOOKS + SOLUTIONS:
        text = "".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"])
        badges = re.findall(r"colab\.research\.google\.com/github/([^/]+/[^/]+)/blob/main/(\S+?\.ipynb)", text)
        clones = re.findall(r"git clone[^\n]*https://github\.com/([^/\s]+/[^/\s]+?)(?:\.git)?\s", text)
        if path.parent.name == "notebooks":
            assert badges, f"{path.name}: no Colab badge"
        assert clones, f"{path.name}: no clone URL in the setup cell"
        if badges:
            assert badges[0][1] == f"{path.parent.name}/{path.name}", f"{path.name}: its badge opens {badges[0][1]}"
        for owner_name, target in badges:
            assert owner_name == repo, f"{path.name}: badge names {owner_name}"
            assert (ROOT / target).is_file(), f"{path.name}: a Colab link opens {target}, which does not exist"
        assert set(clones) == {repo}, f"{path.name}: clone URL names {clones}"


def test_retarget_rewrites_every_place(tmp_path, monkeypatch):
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("notebooks", "solutions", "course_lib"):
        (tmp_path / folder).mkdir()
    shutil.copy(ROOT / "course_lib" / "__init__.py", tmp_path / "course_lib" / "__init__.py")
    for path in NOTEBOOKS[:2] + SOLUTIONS[:1]:
        shutil.copy(path, tmp_path / path.parent.name / path.name)
    monkeypatch.setattr(book, "ROOT", tmp_path)
    old = book.repository()
    changed = book.retarget("my-school/keras-course-2027")
    assert book.repository() == "my-school/keras-course-2027"
    assert {p.name for p in changed} >= {"pyproject.toml", "__init__.py", NOTEBOOKS[0].name}
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert old not in path.read_text(encoding="utf-8"), path
    nb = json.loads((tmp_path / "notebooks" / NOTEBOOKS[0].name).read_text(encoding="utf-8"))
    before = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    assert [c.get("outputs") for c in nb["cells"]] == [c.get("outputs") for c in before["cells"]]
    assert book.retarget("my-school/keras-course-2027") == []


@pytest.mark.parametrize("bad", ["", "owner", "a/b/c", "own er/x", "-x/y", None, 3])
def test_retarget_rejects_what_is_not_owner_slash_name(bad):
    with pytest.raises(ValueError, match="OWNER/NAME"):
        book.retarget(bad)


# --- glossary and errata -----------------------------------------------------------------------

def _heading_terms():
    """Each Chinese term of a notebook heading: the CJK runs, split at 与 / 和 / 、 / ： (so that
    梯度消失与梯度爆炸 names two terms), with the chapter that uses it first."""
    terms = {}
    for path in NOTEBOOKS:
        for _, title in book.headings(path):
            for run in re.findall(r"[\u4e00-\u9fff][\u4e00-\u9fffA-Za-z0-9]*", title):
                for term in re.split(r"[与和、：]", run):
                    if CJK.search(term):
                        terms.setdefault(term, path.name[:2])
    return terms


def test_every_chinese_term_of_a_heading_is_in_the_glossary():
    have = {r.zh for r in book.read_glossary()}
    missing = {t: ch for t, ch in _heading_terms().items() if t not in have}
    assert not missing, f"add these to book/glossary.tsv (term, zh, definition, chapter): {missing}"


def test_glossary_rows_are_complete_and_unique():
    rows = book.read_glossary()
    assert len({(r.term.lower(), r.zh) for r in rows}) == len(rows), "a glossary entry is listed twice"
    for r in rows:
        assert CJK.search(r.zh), f"{r.term}: the Chinese term has no Chinese characters"
        assert len(r.definition) <= 200 and r.definition.endswith("."), f"{r.term}: one sentence, ending in '.'"


def test_errata_name_sections_that_exist():
    rows = book.read_errata()  # raises for a section that is not a heading of its chapter
    assert len(rows) >= 10
    assert {r.source.split()[0] for r in rows} <= {"000", "001", "002", "003", "004"}


# --- the Chinese edition: page names and links (no build) -------------------------------------

def test_language_switch_targets():
    assert "zh/notebooks/00_getting_started" in book.zh_documents()
    assert book.language_switch("notebooks/00_getting_started", "en") == \
        ("../zh/zh/notebooks/00_getting_started.html", "中文")
    assert book.language_switch("zh/notebooks/00_getting_started", "zh") == \
        ("../../../notebooks/00_getting_started.html", "English")
    assert book.language_switch("book/index", "en") == ("../zh/README.zh.html", "中文")
    assert book.language_switch("README.zh", "zh") == ("../book/index.html", "English")
    assert book.language_switch("book/_generated/glossary", "en")[0] == "../../zh/book/_generated/zh/glossary.html"
    href, label = book.language_switch("book/_generated/errata", "en")
    assert href == "../../zh/README.zh.html" and "尚未翻译" in label
    with pytest.raises(ValueError, match="lang"):
        book.language_switch("book/index", "fr")


def test_links_that_leave_the_chinese_site_lead_to_the_english_one():
    text = ("[![Open In Colab](/b.svg)](https://colab.example/x) [答案](../solutions/00_getting_started.ipynb) "
            "[下一章](../../notebooks/01_what_is_a_large_model.ipynb) [首页](../../README.zh.md) "
            "[英文首页](../../README.md) [数据](../../datasets/number_words/DATASHEET.md)")
    out = book.zh_outside_links(text, "zh/notebooks/00_getting_started")
    assert "[![Open In Colab](/b.svg)](https://colab.example/x)" in out
    assert "[答案](../solutions/00_getting_started.ipynb)" in out  # a Chinese page: Sphinx resolves it
    assert '<a href="../../../notebooks/01_what_is_a_large_model.html">下一章</a>' in out
    assert "[首页](../../README.zh.md)" in out
    assert '<a href="../../../book/index.html">英文首页</a>' in out
    assert f'<a href="https://github.com/{book.repository()}/blob/main/datasets/number_words/DATASHEET.md">数据</a>' in out


# --- the built site, in a real browser ---------------------------------------------------------

def _browser_or_skip():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
        import sphinx  # noqa: F401
    except ImportError:
        chromium = None
    if chromium is None:
        message = ("needs Chromium, Sphinx and playwright: `apt-get install chromium` (Debian/Ubuntu) and "
                   "`pip install -r requirements.txt`")
        if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " (COURSE_REQUIRE_BROWSER=1)")
        pytest.skip(message)
    return chromium


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.hrefs, self.resources = set(), [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        if tag in ("script", "img") and a.get("src"):
            self.resources.append(a["src"])
        if tag == "link" and a.get("href") and "stylesheet" in (a.get("rel") or ""):
            self.resources.append(a["href"])


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    _browser_or_skip()
    out = book.build(tmp_path_factory.mktemp("book") / "html")
    return out


def _pages(site):
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts)


def test_the_site_has_every_chapter_solution_and_reference_page(site):
    names = {str(p.relative_to(site)) for p in _pages(site)}
    for path in NOTEBOOKS + SOLUTIONS:
        assert f"{path.parent.name}/{path.stem}.html" in names
    for page in ("index.html", "book/index.html", "search.html", "book/_generated/glossary.html", "book/_generated/errata.html",
                 "book/_generated/syllabus.html"):
        assert page in names
    assert (site / "_sources" / "notebooks" / "07_attention.ipynb").exists() or \
        list(site.rglob("07_attention.ipynb")), "the .ipynb download is missing"


def test_every_internal_link_resolves_and_nothing_is_loaded_from_elsewhere(site):
    parsed = {}
    for page in _pages(site):
        p = _Links()
        p.feed(page.read_text(encoding="utf-8"))
        parsed[page] = p
    dead, external = [], []
    for page, p in parsed.items():
        for res in p.resources:
            if urlparse(res).scheme in ("http", "https") or res.startswith("//"):
                external.append(f"{page.relative_to(site)}: {res}")
        for href in p.hrefs:
            url = urlparse(href)
            if url.scheme or href.startswith(("mailto:", "//")):
                continue
            target = page if not url.path else (page.parent / unquote(url.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                dead.append(f"{page.relative_to(site)} -> {href}")
                continue
            if url.fragment and target.suffix == ".html":
                if target not in parsed:
                    t = _Links()
                    t.feed(target.read_text(encoding="utf-8"))
                    parsed_ids = t.ids
                else:
                    parsed_ids = parsed[target].ids
                if unquote(url.fragment) not in parsed_ids:
                    dead.append(f"{page.relative_to(site)} -> {href} (no such anchor)")
    assert not dead, "dead links:\n" + "\n".join(dead[:30])
    assert not external, "loaded from the network:\n" + "\n".join(external[:30])


@pytest.fixture(scope="module")
def browser_page(site):
    chromium = _browser_or_skip()
    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        outside = []
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                   else (outside.append(route.request.url), route.abort()))
        yield base, page, outside
        browser.close()
    server.shutdown()


def test_every_page_loads_without_errors_with_its_images_and_math(site, browser_page):
    base, page, outside = browser_page
    problems = []
    page.goto(base + "index.html")  # the site's root only redirects to the landing page
    page.wait_for_url("**/book/index.html", timeout=20000)
    for html_file in _pages(site):
        rel = str(html_file.relative_to(site))
        if 'http-equiv="refresh"' in html_file.read_text(encoding="utf-8"):
            continue  # a redirect (the root, zh/index.html): evaluating it would race its navigation
        errors = []
        on_console = lambda msg: errors.append(msg.text) if msg.type == "error" else None  # noqa: E731
        on_error = lambda exc: errors.append(str(exc))  # noqa: E731
        page.on("console", on_console)
        page.on("pageerror", on_error)
        page.goto(base + rel, wait_until="load")
        if page.locator(".math").count():
            page.wait_for_function("() => document.querySelectorAll('.math mjx-container').length"
                                   " >= document.querySelectorAll('.math').length", timeout=20000)
        broken = page.evaluate("() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
                               ".map(i => i.src)")
        page.remove_listener("console", on_console)
        page.remove_listener("pageerror", on_error)
        if errors:
            problems.append(f"{rel}: console errors {errors[:3]}")
        if broken:
            problems.append(f"{rel}: images not loaded {broken[:3]}")
    assert not problems, "\n".join(problems[:30])
    assert not outside, f"requests that left the site: {sorted(set(outside))[:10]}"


@pytest.mark.parametrize("query, chapter", [("Transformer", "08_transformer"), ("注意力", "07_attention")])
def test_search_finds_the_chapter_that_teaches_it(browser_page, query, chapter):
    base, page, _ = browser_page
    page.goto(base + f"search.html?q={query}", wait_until="load")
    page.wait_for_selector("#search-results ul.search li", timeout=30000)
    hrefs = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.href)")
    assert any(f"notebooks/{chapter}.html" in h for h in hrefs), hrefs[:10]


def test_screenshots_of_the_landing_page_and_a_chapter_are_kept(site, browser_page):
    base, page, _ = browser_page
    shots = site / "_screenshots"
    shots.mkdir(exist_ok=True)
    for name, rel in (("landing.png", "book/index.html"), ("chapter-07.png", "notebooks/07_attention.html")):
        page.goto(base + rel, wait_until="load")
        page.screenshot(path=str(shots / name))
        assert (shots / name).stat().st_size > 10_000
    keep = ROOT / "_build" / "screenshots"
    keep.mkdir(parents=True, exist_ok=True)
    for png in shots.glob("*.png"):
        shutil.copy(png, keep / png.name)


# --- the Chinese edition of the site ------------------------------------------------------------

_SWITCH = re.compile(r'<a class="language-switch-link" href="([^"]+)"')
_NOT_DOCS = {"index.html", "zh/index.html", "search.html", "genindex.html", "zh/search.html", "zh/genindex.html"}


def _switch_target(site, page):
    found = _SWITCH.findall(page.read_text(encoding="utf-8"))
    assert len(found) == 1, f"{page.relative_to(site)}: expected one language switch, found {len(found)}"
    return (page.parent / unquote(found[0])).resolve()


def test_the_chinese_site_has_its_index_chapters_and_glossary(site):
    zh_docs = book.zh_documents()
    assert "zh/notebooks/00_getting_started" in zh_docs
    for page in ["zh/README.zh.html", "zh/index.html", "zh/book/_generated/zh/glossary.html",
                 *(f"zh/{d}.html" for d in zh_docs)]:
        assert (site / page).exists(), page
    assert not (site / "zh" / "notebooks").exists(), "the Chinese site builds only the zh/ notebooks"
    index = (site / "zh" / "README.zh.html").read_text(encoding="utf-8")
    assert 'lang="zh' in index and "课程大纲" in index
    glossary = (site / "zh" / "book" / "_generated" / "zh" / "glossary.html").read_text(encoding="utf-8")
    rows = book.read_glossary()  # the same TSV as the English glossary: the single source of terms
    assert glossary.count("<tr") - 1 == len(rows)
    for r in rows:
        assert r.zh in glossary


def test_every_page_links_to_the_same_page_in_the_other_language_and_back(site):
    checked = 0
    for page in _pages(site):
        rel = str(page.relative_to(site))
        if rel in _NOT_DOCS:
            continue
        target = _switch_target(site, page)
        assert target.exists(), f"{rel}: its language switch leads to {target}, which does not exist"
        other_index = site / ("zh/README.zh.html" if not rel.startswith("zh/") else "book/index.html")
        if target != other_index or rel in ("book/index.html", "zh/README.zh.html"):
            assert _switch_target(site, target) == page.resolve(), f"{rel} -> {target.relative_to(site)} does not lead back"
            checked += 1
    assert checked >= 2 * len(book.zh_documents()) + 4  # chapters both ways, both indexes and glossaries


def test_the_language_switch_works_in_the_browser(site, browser_page):
    base, page, _ = browser_page
    page.goto(base + "notebooks/00_getting_started.html", wait_until="load")
    page.click("a.language-switch-link")
    page.wait_for_url("**/zh/zh/notebooks/00_getting_started.html", timeout=20000)
    assert page.evaluate("document.documentElement.lang").startswith("zh")
    assert "入门" in page.locator("h1").first.inner_text()
    page.click("a.language-switch-link")
    page.wait_for_url("**/notebooks/00_getting_started.html", timeout=20000)
    assert "/zh/" not in page.url and page.evaluate("document.documentElement.lang") == "en"


def test_the_chinese_site_search_finds_a_chinese_chapter(browser_page):
    base, page, _ = browser_page
    page.goto(base + "zh/search.html?q=可复现性", wait_until="load")
    page.wait_for_selector("#search-results ul.search li", timeout=30000)
    hrefs = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.href)")
    assert any("zh/zh/notebooks/00_getting_started.html" in h for h in hrefs), hrefs[:10]
