"""setup_notebook(lang=...) for the Chinese edition: the checkers' language (course_lib.messages, when it
exists; COURSE_LANG) and figures that draw Chinese without missing-glyph boxes."""

from __future__ import annotations

import sys
import types
import warnings

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import course_lib  # noqa: E402
from course_lib import environment  # noqa: E402


def _draw_and_collect_missing_glyphs(text: str) -> list[str]:
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.set_title(text)
    ax.set_xlabel("keys · " + text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    plt.close(fig)
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_a_figure_with_chinese_draws_every_glyph_with_the_cjk_font():
    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"]}):
        # negative control: DejaVu Sans alone has no Chinese glyphs, and matplotlib says so
        assert _draw_and_collect_missing_glyphs("注意力"), "expected missing-glyph warnings without a CJK font"
        family = environment.use_cjk_font()
        if family is None:
            pytest.skip("no CJK font installed (Debian: apt-get install fonts-noto-cjk)")
        fonts = matplotlib.rcParams["font.sans-serif"]
        assert fonts[:2] == ["DejaVu Sans", family], "Latin text must keep DejaVu Sans; CJK comes second"
        assert matplotlib.rcParams["font.family"] == ["sans-serif", family]
        assert _draw_and_collect_missing_glyphs("注意力 (attention)") == []


def test_use_cjk_font_twice_keeps_one_entry():
    with matplotlib.rc_context():
        first = environment.use_cjk_font()
        second = environment.use_cjk_font()
        assert first == second
        if first is not None:
            assert matplotlib.rcParams["font.sans-serif"].count(first) == 1
            assert matplotlib.rcParams["font.family"].count(first) == 1


@pytest.fixture
def catalogue(monkeypatch):
    """A stand-in for course_lib.messages that records the languages it is given."""
    calls = []
    fake = types.ModuleType("course_lib.messages")
    fake.set_language = calls.append
    fake.get_language = lambda: calls[-1] if calls else "en"
    monkeypatch.setitem(sys.modules, "course_lib.messages", fake)
    monkeypatch.setattr(course_lib, "messages", fake, raising=False)
    monkeypatch.delenv("COURSE_LANG", raising=False)
    return calls


def test_setup_notebook_sets_the_checkers_language_and_reports_it(catalogue, capsys):
    with matplotlib.rc_context():
        course_lib.setup_notebook(seed=0, lang="zh")
    out = capsys.readouterr().out
    assert catalogue == ["zh"]
    assert "language" in out and "CJK font" in out
    course_lib.setup_notebook(seed=0, lang="en", verbose=False)
    assert catalogue == ["zh", "en"]


def test_setup_notebook_honours_course_lang(catalogue, monkeypatch):
    monkeypatch.setenv("COURSE_LANG", "zh")
    with matplotlib.rc_context():
        course_lib.setup_notebook(seed=0, verbose=False)
    assert catalogue == ["zh"]
    monkeypatch.setenv("COURSE_LANG", "fr")
    with pytest.raises(ValueError, match="COURSE_LANG"):
        course_lib.setup_notebook(seed=0, verbose=False)


def test_setup_notebook_works_without_the_catalogue(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "course_lib.messages", None)  # import fails: module not merged yet
    monkeypatch.delattr(course_lib, "messages", raising=False)
    monkeypatch.delenv("COURSE_LANG", raising=False)
    with matplotlib.rc_context():
        assert course_lib.setup_notebook(seed=0, lang="zh") is not None
    assert "no catalogue" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["fr", "ZH", "", 1, True])
def test_setup_notebook_rejects_other_languages(bad):
    with pytest.raises((ValueError, TypeError), match="lang"):
        course_lib.setup_notebook(seed=0, lang=bad, verbose=False)


def test_language_from_environment(monkeypatch):
    monkeypatch.delenv("COURSE_LANG", raising=False)
    assert environment.language_from_environment() == "en"
    monkeypatch.setenv("COURSE_LANG", " ZH ")
    assert environment.language_from_environment() == "zh"
    with pytest.raises(ValueError, match="default"):
        environment.language_from_environment("de")


def test_on_colab_without_a_cjk_font_the_setup_installs_one_and_says_so(catalogue, monkeypatch, capsys):
    fonts = iter([None, None, "Noto Sans CJK SC"])  # before setup, before apt-get, after apt-get
    commands = []
    monkeypatch.setattr(environment, "find_cjk_font", lambda: next(fonts))
    monkeypatch.setattr(environment.subprocess, "run",
                        lambda args, **kw: commands.append(args) or types.SimpleNamespace(returncode=0))
    monkeypatch.setattr(environment, "_install_colab_extras", lambda: [])
    monkeypatch.setattr(environment, "_upgrade_colab_keras", lambda: None)
    monkeypatch.setattr(environment, "in_colab", lambda: True)
    with matplotlib.rc_context():
        course_lib.setup_notebook(seed=0, lang="zh")
    assert commands == [["apt-get", "-qq", "install", "-y", "fonts-noto-cjk"]]
    assert "Noto Sans CJK SC (installed fonts-noto-cjk with apt-get)" in capsys.readouterr().out


def test_the_english_edition_installs_no_font(catalogue, monkeypatch):
    monkeypatch.setattr(environment, "use_cjk_font", lambda install=False: pytest.fail("font set up for English"))
    course_lib.setup_notebook(seed=0, lang="en", verbose=False)
