"""Checker feedback in the student's language: the English messages of the checkers, translated at display time.

The checkers (``course_lib/checks_NN.py``) and their framework (``course_lib/exercises.py``) write their
hints and status lines in English, as f-strings. They are translated when they are *shown*, not where
they are written, so a checker author never has to wrap a message:

- :func:`extract_templates` reads those source files (with :mod:`ast`) and turns every message they can
  produce into a *template*: an f-string becomes text with numbered placeholders,
  ``f"expected shape {want}, got shape {got}"`` → ``"expected shape {0}, got shape {1}"``. The
  templates are the ``msgid`` of a gettext catalogue, ``course_lib/locale/zh.po``, whose ``msgstr`` is
  the Chinese template with the same placeholders (in any order; literal braces doubled, as in
  :meth:`str.format`).
- :func:`translate` matches an English message against the templates (literal parts exactly,
  placeholders by search, each holding balanced brackets; the reading that explains the most English
  words wins), translates each placeholder's text the same way when it is itself a message (a hint
  after ``"call: "``), and fills the Chinese template. Messages joined by ``": "``, ``"; "`` or
  ``" | "`` are translated piece by piece, and ``describe``'s texts (``array of shape (2, 3)
  (float64)``) wherever they appear. A message that matches nothing is returned unchanged:
  translation never raises and never loses information. :func:`labelled` writes a status line,
  :func:`translate_output` translates the checker lines of a stored cell output.
- :func:`set_language` (called by ``setup_notebook(lang=...)``) and the environment variable
  ``COURSE_LANG`` choose the language; English, the default, is never touched. ``Result.message``
  and ``exercises.results()`` stay in English for graders.

Adding or editing a message: write it in English in the checker as usual, then run
``python -m course_lib.messages --update``: it adds the new templates to the catalogue with an empty
``msgstr`` (an edited one gets its old translation flagged ``fuzzy``, shown in English until checked)
and drops templates no longer in the source. Fill in each empty or fuzzy ``msgstr`` (keep every
``{0}``, ``{1}``...; remove the ``fuzzy`` flag once checked); ``python -m course_lib.messages --missing``
and the completeness test of ``tests/test_messages.py`` list what is left.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import string
import sys
from pathlib import Path
from typing import Iterable, Sequence

__all__ = [
    "LANGUAGES", "extract_templates", "get_language", "labelled", "load_catalogue", "missing_translations",
    "set_language", "translate", "translate_output", "update_catalogue",
]

#: The languages a student can choose ("en" is the language of the source: no catalogue).
LANGUAGES = ("en", "zh")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_PACKAGE_DIR = Path(__file__).resolve().parent
_language: str | None = None   # set_language's choice; None: the environment variable COURSE_LANG

#: Exception classes whose message is a hint for the student (other raises are for checker authors).
_MESSAGE_EXCEPTIONS = {"Wrong", "NotAttempted", "ExerciseError"}
#: Messages of exercises.py that are single words, so not found by the "has a space" rule.
_EXTRA_TEMPLATES = ("passed", "failed", "not attempted", "not checked yet", "correct")
#: Separators of messages that are joined at run time (f"{call}: {hint}", " | ".join(hints)).
_SEPARATORS = {": ": "：", "; ": "；", " | ": " | "}


# --- choosing the language ------------------------------------------------------------------


def _normalise(lang: object, what: str) -> str:
    if not isinstance(lang, str):
        raise TypeError(f"{what}: lang must be a language code such as 'en' or 'zh', got {lang!r} "
                        f"of type {type(lang).__name__}")
    code = re.split(r"[-_.]", lang.strip().lower(), maxsplit=1)[0]   # "zh-CN", "zh_CN.UTF-8" -> "zh"
    if code not in LANGUAGES:
        raise ValueError(f"{what}: lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return code


def set_language(lang: str | None) -> None:
    """Show checker feedback in ``lang`` ("en" or "zh"; a region such as "zh-CN" is accepted).

    ``None`` goes back to the environment variable ``COURSE_LANG`` (English when it is unset)."""
    global _language
    _language = None if lang is None else _normalise(lang, "set_language(lang)")


def get_language() -> str:
    """The language of checker feedback: :func:`set_language`'s choice, else ``COURSE_LANG``, else "en".

    An unknown ``COURSE_LANG`` falls back to English with a warning (it must not stop a notebook)."""
    if _language is not None:
        return _language
    env = os.environ.get("COURSE_LANG", "").strip()
    if not env:
        return "en"
    try:
        return _normalise(env, "COURSE_LANG")
    except ValueError as err:
        import warnings

        warnings.warn(f"{err}; showing checker feedback in English", stacklevel=2)
        return "en"


# --- templates: extracted from the checkers' source -----------------------------------------


def _source_files() -> list[Path]:
    return [_PACKAGE_DIR / "exercises.py"] + sorted(_PACKAGE_DIR.glob("checks_[0-9]*.py"))


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _template_of(node: ast.AST) -> str | None:
    """The template of a string expression (str constant, f-string, or ``+`` of them), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _escape(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(_escape(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _template_of(node.left), _template_of(node.right)
        if left is None and right is None:
            return None
        return (left if left is not None else "{}") + (right if right is not None else "{}")
    return None


def _numbered(template: str) -> str:
    """Number the bare ``{}`` placeholders of a template in order: ``{0}``, ``{1}``, ..."""
    out, count = [], 0
    for literal, field, _, _ in string.Formatter().parse(template):
        out.append(_escape(literal))
        if field is not None:
            out.append("{%d}" % count)
            count += 1
    return "".join(out)


def _is_message(template: str) -> bool:
    literal = "".join(lit for lit, *_ in string.Formatter().parse(template))
    return bool(re.search(r"[A-Za-z]", literal)) and " " in literal.strip()


class _Extractor(ast.NodeVisitor):
    def __init__(self, rel: str):
        self.rel, self.found = rel, {}   # template -> [file:line, ...]
        self._skip: set[int] = set()

    def add(self, node: ast.AST, force: bool = False) -> None:
        template = _template_of(node)
        if template is None:
            return
        template = _numbered(template)
        if force or _is_message(template):
            self.found.setdefault(template, []).append(f"{self.rel}:{node.lineno}")

    def _mark_inner(self, node: ast.AST) -> None:
        """The pieces of a string expression (parts of an f-string, operands of +) are not templates."""
        stack = [node]
        while stack:
            piece = stack.pop()
            if isinstance(piece, ast.JoinedStr):
                self._skip.update(id(v) for v in piece.values if isinstance(v, ast.Constant))
            elif isinstance(piece, ast.BinOp) and isinstance(piece.op, ast.Add):
                for side in (piece.left, piece.right):
                    self._skip.add(id(side))
                    stack.append(side)

    def _mark_non_messages(self, node: ast.AST) -> None:
        """Strings that are compared, used as dict keys, passed as options (``truncate="keep last"``)
        or used as the receiver of a method (``"...".encode()``) are data, not messages."""
        if isinstance(node, ast.Compare):
            self._skip.update(id(n) for n in [node.left, *node.comparators])
        elif isinstance(node, ast.Dict):
            self._skip.update(id(k) for k in node.keys if k is not None)
        elif isinstance(node, ast.Call):
            self._skip.update(id(k.value) for k in node.keywords if k.arg not in ("hint", "message"))
        elif isinstance(node, ast.Attribute):
            self._skip.add(id(node.value))

    def generic_visit(self, node: ast.AST) -> None:
        self._mark_non_messages(node)
        # docstrings and bare string statements are not messages
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            func = node.exc.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name not in _MESSAGE_EXCEPTIONS:
                return   # a TypeError/ValueError for checker authors
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "exercise" and len(node.args) >= 2:
            self.add(node.args[1], force=True)                       # an exercise's title
        if id(node) not in self._skip and _template_of(node) is not None:
            self._mark_inner(node)
            self.add(node)
        super().generic_visit(node)


def extract_templates(files: Sequence[str | Path] | None = None) -> dict[str, list[str]]:
    """Every message template of the checkers' source, with where it is written (``file:line``).

    ``files`` defaults to ``course_lib/exercises.py`` and every ``course_lib/checks_NN.py``. Collected:
    each string or f-string with a space in its text (docstrings and the messages of exceptions other
    than ``Wrong``/``NotAttempted`` excluded), every exercise title, and the status words."""
    if files is not None and (not isinstance(files, (list, tuple)) or not all(isinstance(f, (str, Path)) for f in files)):
        raise TypeError(f"extract_templates(files): files must be a list of paths, got {files!r:.80}")
    paths = [Path(f) for f in files] if files is not None else _source_files()
    found: dict[str, list[str]] = {}
    for path in paths:
        if not path.is_file():
            raise ValueError(f"extract_templates(files): {str(path)!r} is not a file")
        rel = path.name if path.parent != _PACKAGE_DIR else f"course_lib/{path.name}"
        extractor = _Extractor(rel)
        extractor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        for template, where in extractor.found.items():
            found.setdefault(template, []).extend(where)
    if files is None:
        for word in _EXTRA_TEMPLATES:
            found.setdefault(word, []).append("course_lib/exercises.py")
    return found


# --- the catalogue (gettext PO format) -------------------------------------------------------


def _po_unquote(line: str) -> str:
    return ast.literal_eval(line.strip())   # a PO string is a C string; these are also Python strings


def _po_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def _read_po(path: Path) -> list[dict]:
    """The entries of a PO file: dicts with msgid, msgstr, comments (the header entry included)."""
    entries, current, field = [], None, None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            current, field = None, None
            continue
        if current is None:
            current = {"comments": [], "msgid": "", "msgstr": ""}
            entries.append(current)
        if line.startswith("#"):
            current["comments"].append(raw)
        elif line.startswith("msgid "):
            field = "msgid"
            current["msgid"] = _po_unquote(line[6:])
        elif line.startswith("msgstr "):
            field = "msgstr"
            current["msgstr"] = _po_unquote(line[7:])
        elif line.startswith('"') and field:
            current[field] += _po_unquote(line)
        else:
            raise ValueError(f"{path}: cannot read the line {raw!r}")
    return entries


def _write_po(path: Path, entries: list[dict]) -> None:
    blocks = []
    for entry in entries:
        lines = list(entry["comments"])
        lines.append(f"msgid {_po_quote(entry['msgid'])}")
        lines.append(f"msgstr {_po_quote(entry['msgstr'])}")
        blocks.append("\n".join(lines))
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")


def _catalogue_path(lang: str) -> Path:
    return LOCALE_DIR / f"{lang}.po"


def _is_fuzzy(entry: dict) -> bool:
    """A translation kept from a template whose English has since changed (gettext's ``fuzzy`` flag)."""
    return any(c.startswith("#,") and "fuzzy" in c for c in entry["comments"])


@functools.lru_cache(maxsize=None)
def _load(lang: str, stamp: float) -> dict[str, str]:
    path = _catalogue_path(lang)
    return {e["msgid"]: e["msgstr"] for e in _read_po(path) if e["msgid"] and e["msgstr"] and not _is_fuzzy(e)}


def load_catalogue(lang: str) -> dict[str, str]:
    """The translated templates of ``lang``'s catalogue, English template -> translation ({} for "en")."""
    code = _normalise(lang, "load_catalogue(lang)")
    if code == "en":
        return {}
    path = _catalogue_path(code)
    return dict(_load(code, path.stat().st_mtime if path.exists() else 0.0)) if path.exists() else {}


def _placeholders(template: str) -> list[str]:
    try:
        return sorted(f for _, f, _, _ in string.Formatter().parse(template) if f is not None)
    except ValueError:
        return ["<unbalanced braces>"]


def missing_translations(lang: str = "zh") -> list[str]:
    """The templates of the current source that ``lang``'s catalogue does not translate: no ``msgstr``,
    a ``fuzzy`` one (kept from an earlier English wording, to be checked), or one with other
    placeholders than the English (the reason is given after the template)."""
    code = _normalise(lang, "missing_translations(lang)")
    if code == "en":
        return []
    path = _catalogue_path(code)
    entries = {e["msgid"]: e for e in _read_po(path)} if path.exists() else {}
    problems = []
    for template in extract_templates():
        entry = entries.get(template, {"msgstr": "", "comments": []})
        zh = entry["msgstr"]
        if not zh.strip():
            problems.append(template)
        elif _is_fuzzy(entry):
            problems.append(f"{template}  [fuzzy: its English changed; check the msgstr, then remove 'fuzzy']")
        elif _placeholders(zh) != _placeholders(template):
            problems.append(f"{template}  [placeholders {_placeholders(zh)} != {_placeholders(template)}]")
    return problems


def update_catalogue(lang: str = "zh", path: str | Path | None = None) -> tuple[int, int]:
    """Bring ``lang``'s catalogue in step with the source: add the new templates and drop the ones no
    longer in the source. Returns (added, dropped).

    A new template gets an empty ``msgstr``, or, when it looks like a dropped one (an edited hint),
    that one's translation flagged ``fuzzy`` with the old English in a ``#| msgid`` comment (as
    gettext's msgmerge does): shown in English until a translator checks it and removes the flag."""
    import difflib

    code = _normalise(lang, "update_catalogue(lang)")
    if code == "en":
        raise ValueError("update_catalogue(lang): English is the source language; it has no catalogue")
    target = Path(path) if path is not None else _catalogue_path(code)
    entries = _read_po(target) if target.exists() else []
    header = [e for e in entries if e["msgid"] == ""] or [{
        "comments": ["# Chinese translations of course_lib's checker messages (see course_lib/messages.py)."],
        "msgid": "", "msgstr": "Content-Type: text/plain; charset=UTF-8\nLanguage: zh_CN\n"}]
    old = {e["msgid"]: e for e in entries if e["msgid"]}
    templates = extract_templates()
    dropped = {t: e for t, e in old.items() if t not in templates and e["msgstr"].strip()}
    new_entries = []
    for template, where in sorted(templates.items(), key=lambda kv: _sort_key(kv[1][0])):
        files = " ".join(dict.fromkeys(w.rpartition(":")[0] or w for w in where))
        comments, msgstr = [f"#: {files}", "#, python-brace-format"], ""
        if template in old:
            entry = old[template]
            msgstr = entry["msgstr"]
            if _is_fuzzy(entry):
                comments = [f"#: {files}", "#, fuzzy, python-brace-format"] + \
                    [c for c in entry["comments"] if c.startswith("#|")]
        else:
            close = difflib.get_close_matches(template, list(dropped), n=1, cutoff=0.75)
            if close:
                msgstr = dropped[close[0]]["msgstr"]
                comments = [f"#: {files}", "#, fuzzy, python-brace-format", f"#| msgid {_po_quote(close[0])}"]
        new_entries.append({"comments": comments, "msgid": template, "msgstr": msgstr})
    target.parent.mkdir(parents=True, exist_ok=True)
    _write_po(target, header[:1] + new_entries)
    _load.cache_clear()
    _compiled.cache_clear()
    return sum(1 for t in templates if t not in old), sum(1 for t in old if t not in templates)


def _sort_key(where: str) -> tuple[str, int]:
    name, _, line = where.rpartition(":")
    return (name, int(line)) if line.isdigit() else (where, 0)


# --- translating a message ------------------------------------------------------------------


class _Template:
    """An English template split into its literal parts (``parts[k]`` precedes placeholder k)."""

    __slots__ = ("msgid", "msgstr", "parts", "letters", "chars")

    def __init__(self, msgid: str, msgstr: str):
        self.msgid, self.msgstr = msgid, msgstr
        parts = [""]
        for literal, field, _, _ in string.Formatter().parse(msgid):
            parts[-1] += literal             # "{{" splits a literal into two pieces: join them
            if field is not None:
                parts.append("")
        self.parts = tuple(parts)
        self.letters = sum(ch.isalpha() for ch in "".join(self.parts))
        self.chars = sum(map(len, self.parts))


@functools.lru_cache(maxsize=8)
def _compiled(lang: str, stamp: float) -> tuple[_Template, ...]:
    templates = []
    for msgid, msgstr in load_catalogue(lang).items():
        try:
            t = _Template(msgid, msgstr)
        except ValueError:
            continue
        if t.letters and msgid not in _INLINE:
            templates.append(t)
    # most specific first: when two explain the same text, the longer literal text wins the tie
    templates.sort(key=lambda t: -sum(map(len, t.parts)))
    return tuple(templates)


_MAX_SPLITS = 64   # placeholder splits tried per template and text (messages are short)


def _splits(text: str, parts: tuple[str, ...]) -> Iterable[list[str]]:
    """Every way (up to a bound) of reading ``text`` as the literal ``parts`` with placeholders between."""
    first, last = parts[0], parts[-1]
    if len(parts) == 1:
        if text == first:
            yield []
        return
    if not text.startswith(first) or not text.endswith(last) or len(text) < len(first) + len(last):
        return
    end = len(text) - len(last)

    def rec(pos: int, k: int) -> Iterable[list[str]]:
        if k == len(parts) - 2:                 # the last placeholder runs to the final literal
            if pos <= end:
                yield [text[pos:end]]
            return
        literal = parts[k + 1]
        if literal:
            stops, at = [], text.find(literal, pos)
            while 0 <= at and at + len(literal) <= end:
                stops.append(at)
                at = text.find(literal, at + 1)
        else:
            stops = list(range(pos, end + 1))
        for stop in stops:
            for rest in rec(stop + len(literal), k + 1):
                yield [text[pos:stop]] + rest

    count = 0
    for split in rec(len(first), 0):
        yield split
        count += 1
        if count >= _MAX_SPLITS:
            return


_CLOSING = {")": "(", "]": "[", "}": "{"}


def _balanced(value: str) -> bool:
    """Whether a placeholder's text has balanced brackets: the text of one value (a repr, a shape, a
    ``describe``), not pieces of two (``(3, 4) (float64), array of shape (4,)``)."""
    stack = []
    for ch in value:
        if ch in "([{":
            stack.append(ch)
        elif ch in _CLOSING:
            if not stack or stack.pop() != _CLOSING[ch]:
                return False
    return not stack


#: ``describe``'s texts of arrays and of lists of arrays: they appear inside calls
#: (``conv1d(array of shape (12, 3) (float64), ...)``) and lists, so they are translated wherever they
#: are found (in any text, before and after other templates matched), not as whole messages.
_ARRAY, _ITEMS = "array of shape {0} ({1})", "a {0} of {1} items ({2})"
_ANGLED = re.compile(r"<([^<>]+)>")
_INLINE = {_ARRAY: re.compile(r"array of shape (\([0-9, ]*\)) \(([A-Za-z0-9_<>]+)\)"),
           _ITEMS: re.compile(r"\ba (list|tuple) of (\d+) items \(")}


def _inline(text: str, templates: dict[str, _Template]) -> tuple[tuple[int, int], str]:
    """Translate the ``describe`` texts inside ``text``; ((letters, characters) explained, translation)."""
    letters = chars = 0
    array, items = templates.get(_ARRAY), templates.get(_ITEMS)
    if array is not None:
        found = _INLINE[_ARRAY].findall(text)
        letters, chars = letters + array.letters * len(found), chars + array.chars * len(found)
        text = _INLINE[_ARRAY].sub(lambda m: array.msgstr.format(*m.groups()), text)
    if items is not None:
        for m in reversed(list(_INLINE[_ITEMS].finditer(text))):   # innermost (rightmost) first
            depth, end = 1, m.end()
            while end < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                end += 1
            if depth:
                continue
            inner = text[m.end():end - 1]
            text = text[:m.start()] + items.msgstr.format(m.group(1), m.group(2), inner) + text[end:]
            letters, chars = letters + items.letters, chars + items.chars
    for m in reversed(list(_ANGLED.finditer(text))):   # a case shown by its description: f(<a plain stream>)
        t = templates.get(_escape(m.group(1)))
        if t is not None and len(t.parts) == 1:
            text = text[:m.start(1)] + t.msgstr.replace("{{", "{").replace("}}", "}") + text[m.end(1):]
            letters, chars = letters + t.letters, chars + t.chars
    return (letters, chars), text


def _translator(templates: tuple[_Template, ...], inline: dict[str, str]):
    by_id = {t.msgid: t for t in templates}
    by_id.update({msgid: _Template(msgid, msgstr) for msgid, msgstr in inline.items()})

    @functools.lru_cache(maxsize=4096)
    def best(text: str) -> tuple[tuple[int, int], str]:
        """((English letters explained, characters explained), translation) of ``text``: the reading
        that explains the most English words wins; on a tie, the one explaining more punctuation too
        (so ``"call: " + message`` is split at its colon rather than swallowed by a placeholder)."""
        best_score, best_text = (0, 0), None
        for t in templates:
            if any(p and p not in text for p in t.parts):
                continue
            for values in _splits(text, t.parts):
                if any(v == text or not _balanced(v) for v in values):
                    continue
                subs = [best(v) for v in values]
                score = (t.letters + sum(s[0] for s, _ in subs), t.chars + sum(s[1] for s, _ in subs))
                if score > best_score:
                    try:
                        rendered = t.msgstr.format(*[s_text for _, s_text in subs])
                    except (IndexError, KeyError, ValueError):
                        continue
                    best_score, best_text = score, rendered
        for sep, zh_sep in _SEPARATORS.items():
            at = text.find(sep)
            while at >= 0:
                (ls, lt), (rs, rt) = best(text[:at]), best(text[at + len(sep):])
                score = (ls[0] + rs[0], ls[1] + rs[1] + len(sep))
                if score[0] and score > best_score:
                    best_score, best_text = score, lt + zh_sep + rt
                at = text.find(sep, at + 1)
        if best_text is None:
            return _inline(text, by_id)
        return best_score, best_text

    return best


@functools.lru_cache(maxsize=8)
def _translator_for(lang: str, stamp: float):
    catalogue = load_catalogue(lang)
    return _translator(_compiled(lang, stamp), {m: catalogue[m] for m in _INLINE if m in catalogue})


def translate(text: str, lang: str | None = None) -> str:
    """``text`` (an English checker message or status line) in ``lang`` (default :func:`get_language`).

    English, and any text no template explains, is returned unchanged; never raises on a message."""
    if not isinstance(text, str):
        raise TypeError(f"translate(text): text must be a str, got {type(text).__name__}")
    code = get_language() if lang is None else _normalise(lang, "translate(lang)")
    if code == "en" or not text:
        return text
    path = _catalogue_path(code)
    if not path.exists():
        return text
    try:
        score, zh = _translator_for(code, path.stat().st_mtime)(text)
    except RecursionError:   # pragma: no cover - a pathological message: show it as it is
        return text
    return zh if score[0] else text


def labelled(label: str, text: str, lang: str | None = None) -> str:
    """``"label: text"`` in ``lang`` (default :func:`get_language`): both parts translated on their own,
    joined by the language's colon (a status line: ``练习 1 · 多通道一维卷积：...``)."""
    if not isinstance(label, str) or not isinstance(text, str):
        bad, value = ("label", label) if not isinstance(label, str) else ("text", text)
        raise TypeError(f"labelled({bad}): {bad} must be a str, got {type(value).__name__}")
    code = get_language() if lang is None else _normalise(lang, "labelled(lang)")
    if code == "en":
        return f"{label}: {text}"
    return f"{translate(label, code)}{_SEPARATORS[': '] if code == 'zh' else ': '}{translate(text, code)}"


_STATUS_LINE = re.compile(r"^(\s*[✓✗○·] )(Exercise \d+ · .*)$")
_SUMMARY_LINE = re.compile(r"^\S+: \d+ of \d+ exercises correct$")


def translate_output(text: str, lang: str | None = None) -> str:
    """A notebook cell's printed output with its checker lines in ``lang`` (default :func:`get_language`):
    the status line of each exercise (``✗ Exercise 1 · title: hint``) and a chapter's summary; every
    other line is left as it is. For building a translated notebook from the stored English outputs."""
    if not isinstance(text, str):
        raise TypeError(f"translate_output(text): text must be a str, got {type(text).__name__}")
    code = get_language() if lang is None else _normalise(lang, "translate_output(lang)")
    if code == "en":
        return text
    titles = load_catalogue(code)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _SUMMARY_LINE.match(line):
            lines[i] = translate(line, code)
            continue
        status = _STATUS_LINE.match(line)
        if not status:
            continue
        rest = status.group(2)
        at = rest.find(": ")
        while at >= 0:      # the label ends at the first ": " after a known title (titles may hold ": ")
            if rest[:at].split(" · ", 1)[1] in titles:
                lines[i] = status.group(1) + labelled(rest[:at], rest[at + 2:], code)
                break
            at = rest.find(": ", at + 1)
    return "\n".join(lines)


def _main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m course_lib.messages", description=__doc__.split("\n")[0])
    parser.add_argument("--update", action="store_true",
                        help="add the source's new templates to the catalogues (empty msgstr), drop obsolete ones")
    parser.add_argument("--missing", action="store_true", help="list the templates still untranslated")
    parser.add_argument("--lang", default="zh")
    args = parser.parse_args(argv)
    if args.update:
        added, dropped = update_catalogue(args.lang)
        print(f"{_catalogue_path(args.lang)}: {added} templates added (translate their msgstr), {dropped} dropped")
    missing = missing_translations(args.lang)
    print(f"{len(extract_templates())} templates, {len(missing)} untranslated in {args.lang}")
    if args.missing:
        for template in missing:
            print(f"  {template}")
    return 0 if not missing else 1


if __name__ == "__main__":
    sys.exit(_main())
