"""The instructor's command line: ``python -m course_lib COMMAND``.

    check   [NN ...] [--notebooks|--solutions]   strict nbval per notebook, then a table
    refresh [NN ...] [--notebooks|--solutions]   re-execute in a clean kernel, store outputs
    rehearse [NN ...] --replicas N               run on N simulated replicas (asserts must hold)
    datasets (--verify | --regenerate NAME ...)  check or rebuild the generated datasets
    build SCRIPT.py NOTEBOOK.ipynb              make a notebook from a "# %%" script
    grade NN SUBMISSIONS --out OUT               run a class's notebooks, write grades.csv and report.html
    book [--out DIR]                             build the book site from the stored notebooks (offline)
    retarget OWNER/NAME                          make badges, clone URLs and links name a fork
    zh build [NN ...]                            build the Chinese notebooks zh/ from the translations
    zh status                                    per notebook: blocks translated / stale / missing / orphan
    zh skeleton NN [--update]                    write (or update) the translation files of a chapter

`refresh NN` also rebuilds the Chinese notebooks of NN when their translation is current (and warns,
naming the cells to re-translate, when it is not).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _folders(args: argparse.Namespace) -> tuple[str, ...]:
    if args.notebooks and not args.solutions:
        return ("notebooks",)
    if args.solutions and not args.notebooks:
        return ("solutions",)
    return ("notebooks", "solutions")


def _refresh_chinese(paths: list[Path]) -> None:
    """After an English refresh: rebuild each refreshed notebook's Chinese one when its translation is
    current; otherwise warn, naming the cells (the English refresh itself has succeeded)."""
    from course_lib import i18n

    for path in paths:
        if path.parent.name not in i18n.FOLDERS or not i18n.translation_path(path).exists():
            continue
        name = f"{path.parent.name}/{path.name}"
        try:
            row = i18n.status([path])[0]
            if not row.ok:
                print(f"WARNING: zh/{name} NOT rebuilt: its translation is behind the English notebook "
                      f"({row.problems()}); run `python -m course_lib zh skeleton {path.stem[:2]} --update`, "
                      f"translate those cells, then `python -m course_lib zh build {path.stem[:2]}`", file=sys.stderr)
                continue
            target = i18n.write_notebooks([path])[0]
        except (ValueError, OSError) as err:
            print(f"WARNING: zh/{name} NOT rebuilt: {err}", file=sys.stderr)
            continue
        print(f"{target.relative_to(i18n.ROOT)}: rebuilt from the refreshed English notebook")


def _zh(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from course_lib import i18n, nbtools

    if args.zh_command == "status":
        rows = i18n.status()
        done = {f"{r.notebook}" for r in rows}
        rest = [f"{p.parent.name}/{p.name}" for p in nbtools.find_notebooks()
                if f"{p.parent.name}/{p.name}" not in done]
        print(i18n.format_status(rows, rest))
        print(f"{sum(r.ok for r in rows)} of {len(rows)} translated notebooks current; "
              f"{len(rest)} not yet translated")
        return 0 if all(r.ok for r in rows) else 1
    folders = _folders(args)
    if args.zh_command == "skeleton":
        try:
            paths = nbtools.find_notebooks(args.chapters, folders)
        except ValueError as err:
            parser.error(str(err))
        for path in paths:
            try:
                out, todo = i18n.skeleton(path, update=args.update)
            except (FileNotFoundError, ValueError) as err:
                print(err, file=sys.stderr)
                return 1
            print(f"{out.relative_to(i18n.ROOT)}: to translate: {len(todo)} {todo}")
        return 0
    try:
        if args.chapters:
            paths = [p for p in nbtools.find_notebooks(args.chapters, folders) if i18n.translation_path(p).exists()]
            if not paths:
                parser.error(f"no translation file for {args.chapters} (make one: python -m course_lib zh skeleton NN)")
        else:
            paths = [p for p in i18n.translated_notebooks() if p.parent.name in folders]
        written = i18n.write_notebooks(paths)
    except ValueError as err:
        print(f"not built:\n{err}", file=sys.stderr)
        return 1
    for target in written:
        print(f"wrote {target.relative_to(i18n.ROOT)}")
    readme = i18n.ROOT / "README.zh.md"
    if readme.exists() and i18n.update_readme(readme):
        print("updated README.zh.md's links to the translated chapters")
    return 0


def main(argv: list[str] | None = None) -> int:
    from course_lib import nbtools

    parser = argparse.ArgumentParser(prog="python -m course_lib", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("check", "check notebooks with strict nbval and print a table"),
                       ("refresh", "re-execute notebooks top to bottom and store their outputs")):
        p = sub.add_parser(name, help=text)
        p.add_argument("chapters", nargs="*", help="00, 03_backpropagation, or a path (default: all)")
        p.add_argument("--notebooks", action="store_true", help="only notebooks/")
        p.add_argument("--solutions", action="store_true", help="only solutions/")
    r = sub.add_parser("rehearse", help="run notebooks on N simulated CPU replicas, as on N GPUs")
    r.add_argument("chapters", nargs="*", help="00, 03_backpropagation, or a path (default: all)")
    r.add_argument("--replicas", type=int, default=2, help="at least this many replicas (default 2)")
    r.add_argument("--notebooks", action="store_true", help="only notebooks/")
    r.add_argument("--solutions", action="store_true", help="only solutions/")
    d = sub.add_parser("datasets", help="verify or regenerate the generated datasets")
    g = d.add_mutually_exclusive_group(required=True)
    g.add_argument("--verify", action="store_true", help="check every file against datasets/SHA256SUMS")
    g.add_argument("--regenerate", nargs="+", metavar="NAME", help="rebuild these datasets and the manifest")
    b = sub.add_parser("build", help="make a notebook from a percent-format script")
    b.add_argument("script", type=Path)
    b.add_argument("notebook", type=Path)
    gr = sub.add_parser("grade", help="grade a folder of submitted notebooks of one chapter")
    gr.add_argument("chapter", help="the chapter: 07 or 07_attention")
    gr.add_argument("submissions", type=Path, help="a folder; every .ipynb below it is one submission")
    gr.add_argument("--out", type=Path, required=True, help="where grades.csv, report.html and executed/ go")
    gr.add_argument("--timeout", type=int, default=None, help="seconds per submission (default 5 x 60)")
    gr.add_argument("--memory-mb", type=int, default=6144, help="address-space limit per submission (MB)")
    bk = sub.add_parser("book", help="build the book site (HTML) from the stored notebooks, offline")
    bk.add_argument("--out", type=Path, default=None, help="output folder (default _build/html)")
    rt = sub.add_parser("retarget", help="make every badge, clone URL and link name another repository")
    rt.add_argument("repository", help="OWNER/NAME of the fork on GitHub")
    zh = sub.add_parser("zh", help="the Chinese edition: build, status, skeleton")
    zsub = zh.add_subparsers(dest="zh_command", required=True)
    zb = zsub.add_parser("build", help="build zh/ notebooks from the executed English ones + translations")
    zb.add_argument("chapters", nargs="*", help="00 or 05_convolutional_networks (default: every translated one)")
    zsub.add_parser("status", help="a table per notebook: blocks translated / stale / missing / orphan")
    zs = zsub.add_parser("skeleton", help="write the translation files of a chapter (English text to translate)")
    zs.add_argument("chapters", nargs="+", help="00 or 05_convolutional_networks")
    zs.add_argument("--update", action="store_true", help="keep still-valid blocks, list the cells to (re)translate")
    for zp in (zb, zs):
        zp.add_argument("--notebooks", action="store_true", help="only notebooks/")
        zp.add_argument("--solutions", action="store_true", help="only solutions/")
    args = parser.parse_args(argv)

    if args.command == "zh":
        return _zh(args, parser)

    if args.command == "book":
        from course_lib import book

        try:
            out = book.build(args.out)
        except (RuntimeError, ValueError) as err:
            print(err, file=sys.stderr)
            return 1
        print(f"built {out}; open {out / 'index.html'} (publish: copy the folder to GitHub Pages)")
        return 0

    if args.command == "retarget":
        from course_lib import book

        try:
            changed = book.retarget(args.repository)
        except ValueError as err:
            parser.error(str(err))
        for path in changed:
            print(f"rewrote {path.relative_to(book.ROOT)}")
        print(f"{len(changed)} files now name {args.repository}")
        return 0

    if args.command == "grade":
        from course_lib import grade

        try:
            rows = grade.grade_submissions(args.chapter, args.submissions, args.out, timeout=args.timeout,
                                           memory_mb=args.memory_mb)
        except (ValueError, TypeError) as err:
            parser.error(str(err))
        print(f"wrote {args.out / 'grades.csv'} ({len(rows)} rows) and {args.out / 'report.html'}")
        return 0

    if args.command == "rehearse":
        if args.replicas < 1:
            parser.error(f"expected --replicas >= 1, got {args.replicas}")
        try:
            paths = nbtools.find_notebooks(args.chapters, _folders(args))
        except ValueError as err:
            parser.error(str(err))
        failed = 0
        for path in paths:  # one at a time, so progress shows as it goes
            row = nbtools.rehearse_notebooks([path], args.replicas)[0]
            failed += not row.passed
            status = "ok" if row.passed else f"FAILED: {row.error}"
            print(f"{path.relative_to(nbtools.ROOT)}  {row.seconds:6.1f} s  {status}", flush=True)
        print(f"{len(paths) - failed} of {len(paths)} notebooks ran on {args.replicas} replicas")
        return 1 if failed else 0

    if args.command in ("check", "refresh"):
        try:
            paths = nbtools.find_notebooks(args.chapters, _folders(args))
        except ValueError as err:
            parser.error(str(err))
        if args.command == "check":
            rows = nbtools.check_notebooks(paths)
            print(nbtools.format_table(rows))
            return 0 if all(r.passed for r in rows) else 1
        for path in paths:
            seconds = nbtools.execute_notebook(path)
            print(f"{path.relative_to(nbtools.ROOT)}: executed in {seconds:.1f} s")
        _refresh_chinese(paths)
        return 0

    if args.command == "datasets":
        from course_lib import data, generators

        if args.verify:
            results = data.verify_datasets(data.DATASETS_DIR)
            rows = [("file", "status", "fix"), *results]
            widths = [max(len(r[i]) for r in rows) for i in range(2)]
            for file, status, fix in rows:
                print(f"{file:<{widths[0]}}  {status:<{widths[1]}}  {fix}".rstrip())
            bad = sum(status != "ok" for _, status, _ in results)
            print(f"{len(results) - bad} of {len(results)} files ok")
            return 1 if bad or not results else 0
        for name in args.regenerate:
            path = generators.write(name, data.DATASETS_DIR)
            print(f"wrote {path.relative_to(nbtools.ROOT)} ({data.sha256_of(path)[:12]}...)")
        return 0

    nb = nbtools.notebook_from_script(args.script.read_text(encoding="utf-8"))
    import nbformat

    nbformat.write(nb, args.notebook)
    print(f"wrote {args.notebook} ({len(nb.cells)} cells); run `python -m course_lib refresh {args.notebook}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
