"""Every notebook follows the course's anatomy, has its solutions twin, and is stored executed."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: The syllabus' fixed notebook names (Colab links and solutions depend on them).
SYLLABUS = [
    "00_getting_started", "01_what_is_a_large_model", "02_neural_networks", "03_backpropagation",
    "04_optimization", "05_convolutional_networks", "06_recurrent_networks", "07_attention",
    "08_transformer", "09_pretraining_and_finetuning", "10_language_models",
    "11_reinforcement_learning", "12_applications", "13_distributed_training",
    "14_tools_and_deployment", "15_responsible_ai", "16_learning_path",
]
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
BOTH = [(folder, name) for name in NOTEBOOKS for folder in ("notebooks", "solutions")]


def _load(folder, name):
    return json.loads((ROOT / folder / f"{name}.ipynb").read_text(encoding="utf-8"))


def _code(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def test_there_are_notebooks():
    assert "00_getting_started" in NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_names_follow_the_syllabus(name):
    assert name in SYLLABUS, f"{name} is not a syllabus name"
    assert (ROOT / "solutions" / f"{name}.ipynb").exists(), f"solutions/{name}.ipynb is missing"
    number = name[:2]
    assert (ROOT / "course_lib" / f"checks_{number}.py").exists()
    assert (ROOT / "tests" / f"test_checks_{number}.py").exists()


def test_no_orphan_solutions():
    assert sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb")) == NOTEBOOKS


@pytest.mark.parametrize("folder, name", BOTH)
def test_stored_executed_top_to_bottom(folder, name):
    nb = _load(folder, name)
    counts = [c.get("execution_count") for c in _code(nb)]
    assert counts == list(range(1, len(counts) + 1)), "re-run it with `python -m course_lib refresh`"
    for i, cell in enumerate(_code(nb)):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"cell {i} stored an error"
            assert "image/svg+xml" not in out.get("data", {}), f"cell {i} stores SVG; use PNG"
        assert not "".join(cell["source"]).rstrip().endswith(";"), f"cell {i} ends with ';'"


@pytest.mark.parametrize("folder, name", BOTH)
def test_anatomy(folder, name):
    nb = _load(folder, name)
    text = "\n".join("".join(c["source"]) for c in nb["cells"])
    first_md = "".join(nb["cells"][0]["source"])
    assert first_md.startswith(f"# {name[:2]} · ")
    assert re.search(r"[\u4e00-\u9fff]", first_md.splitlines()[0]), "title needs the Chinese term"
    badge = f"colab.research.google.com/github/ai-large-models-course/keras-course/blob/main/{folder}/{name}.ipynb"
    assert badge in first_md
    setup = _code(nb)[0]
    assert "course_lib.setup_notebook(" in "".join(setup["source"])
    assert "nbval-ignore-output" in _tags(setup)
    if folder == "notebooks":
        assert "You will learn" in text and "Source sections covered" in text
        assert "## Summary" in text and "## Exercises" in text
        assert f"../solutions/{name}.ipynb" in text
        assert any("exercise" in _tags(c) for c in _code(nb))
        assert "checks.summary()" in text
    else:
        assert "set_strict(True)" in text
        assert any("solution" in _tags(c) for c in _code(nb))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_stub_has_a_solution(name):
    def defined(folder, tag):
        cells = [c for c in _code(_load(folder, name)) if tag in _tags(c)]
        return {m for c in cells for m in re.findall(r"^def (\w+)\(", "".join(c["source"]), re.M)}

    stubs = defined("notebooks", "exercise")
    assert stubs and stubs <= defined("solutions", "solution")


def test_readme_syllabus_links_every_written_chapter():
    rows = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| (\d\d) \| (.*?) \| .* \| (written|planned) \|$", line)
        if match:
            rows[match[1]] = (match[2], match[3])
    assert sorted(rows) == [name[:2] for name in SYLLABUS]
    for name in SYLLABUS:
        title, status = rows[name[:2]]
        written = name in NOTEBOOKS
        assert status == ("written" if written else "planned"), f"README says {status} for {name}"
        link = f"](notebooks/{name}.ipynb)"
        assert (link in title) == written, f"README row {name[:2]}: expected {'a' if written else 'no'} link {link}"


@pytest.mark.parametrize("folder, name", BOTH)
def test_relative_links_resolve(folder, name):
    nb = _load(folder, name)
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for link in re.findall(r"\]\(([^)\s]+)\)", "".join(cell["source"])):
            if link.startswith(("http://", "https://", "#", "mailto:")):
                continue
            target = (ROOT / folder / link.split("#")[0]).resolve()
            assert target.exists(), f"{folder}/{name}: the link {link!r} points at nothing"
