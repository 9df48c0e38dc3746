"""The instructor's tools: finding, building and cleaning notebooks; the command line."""

import subprocess
import sys

import nbformat
import pytest

from course_lib import nbtools


def test_find_notebooks():
    found = nbtools.find_notebooks(["00"])
    assert [p.parent.name for p in found] == ["notebooks", "solutions"]
    assert nbtools.find_notebooks(["00_getting_started"], folders=["solutions"])[0].parent.name == "solutions"
    assert len(nbtools.find_notebooks()) >= 2


def test_find_notebooks_rejects_unknown():
    with pytest.raises(ValueError, match="no notebook matches '99'"):
        nbtools.find_notebooks(["99"])
    with pytest.raises(ValueError, match="expected folders among"):
        nbtools.find_notebooks([], folders=["docs"])


def test_notebook_from_script():
    script = '# %% [markdown]\n# # Title\n# text\n\n# %% tags=["nbval-ignore-output"]\nx = 1\n\n# %%\nprint(x)\n'
    nb = nbtools.notebook_from_script(script)
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code"]
    assert nb.cells[0].source == "# Title\ntext"
    assert nb.cells[1].metadata["tags"] == ["nbval-ignore-output"]
    assert nb.cells[2].source == "print(x)"
    nbformat.validate(nb)


def test_drop_runtime_logs_keeps_real_stderr():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    log = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
           "I0000 00:00:1795449452.542238    2640 cudart_stub.cc:31] Could not find cuda drivers\n"
           "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text=log),
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: something real\n"),
        nbformat.v4.new_output("stream", name="stdout", text="hello\n"),
    ]
    nb.cells.append(cell)
    nbtools._drop_runtime_logs(nb)
    assert [o.text for o in nb.cells[0].outputs] == ["UserWarning: something real\n", "hello\n"]


def test_format_table():
    table = nbtools.format_table([nbtools.CheckRow("notebooks/00.ipynb", True, 1.23, "3 passed")])
    assert "| notebooks/00.ipynb | pass | 1.2 | 3 passed |" in table


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "course_lib", *args], capture_output=True, text=True,
                          cwd=nbtools.ROOT)


def test_cli_verifies_datasets():
    proc = _cli("datasets", "--verify")
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0 and lines[0].split() == ["file", "status", "fix"]
    assert lines[1].split() == ["number_words/data.tsv", "ok"] and lines[-1] == "2 of 2 files ok"


def test_cli_rejects_unknown_chapter():
    proc = _cli("check", "99")
    assert proc.returncode == 2 and "no notebook matches '99'" in proc.stderr


def test_rehearse_runs_on_simulated_replicas(tmp_path):
    """The kernel sees COURSE_CPU_REPLICAS, setup_notebook mirrors over that many devices, and a
    failing assert is reported with its message."""
    script = (
        "# %%\nimport course_lib\nstrategy = course_lib.setup_notebook(verbose=False)\n"
        "# %%\nassert strategy.num_replicas_in_sync == 3, strategy.num_replicas_in_sync\n"
        "# %%\nassert False, 'the model did not learn'\n"
    )
    path = tmp_path / "99_probe.ipynb"
    nb = nbtools.notebook_from_script(script)
    nbformat.write(nb, path)
    row, = nbtools.rehearse_notebooks([path], replicas=3)
    assert not row.passed and "the model did not learn" in row.error
    assert row.error.startswith("AssertionError"), row.error  # no terminal colour codes
    nb.cells.pop()
    nbformat.write(nb, path)
    row, = nbtools.rehearse_notebooks([path], replicas=3)
    assert row.passed, row.error
    assert nbformat.read(path, as_version=4).cells[0].get("outputs", []) == []  # nothing saved


@pytest.mark.parametrize("bad", [0, 1.5, True])
def test_rehearse_rejects_bad_replicas(bad):
    with pytest.raises(ValueError, match="expected replicas to be an int >= 1"):
        nbtools.rehearse_notebooks([], bad)


def test_executing_a_notebook_stops_its_kernel(tmp_path):
    """nbclient keeps a kernel alive when it was handed the kernel manager: ours must not leak one."""
    from nbclient import NotebookClient

    nb = nbtools.notebook_from_script("# %%\nx = 1 + 1\n")
    client = NotebookClient(nb, km=nbtools._kernel_manager(), timeout=60, kernel_name="python3")
    with nbtools.shut_down_afterwards(client):
        client.execute()
        assert client.km.has_kernel
    assert not client.km.has_kernel
