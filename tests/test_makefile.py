"""`make lab` serves the repository root (so the notebooks' links to ../solutions and README.md resolve
in JupyterLab) and opens chapter 00; a file argument would make notebooks/ the server's root."""

import re
import shutil
import subprocess

import pytest
from nbutils import ROOT


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_serves_the_repository_root_and_opens_chapter_00():
    out = subprocess.run(["make", "-n", "-o", ".venv/.installed-stamp", "lab"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if "jupyter lab" in l)
    root = re.search(r'--ServerApp\.root_dir="?([^"\s]+)"?', line)
    assert root and root.group(1) == str(ROOT), line
    url = re.search(r"--LabApp\.default_url=/lab/tree/(\S+)", line)
    assert url and (ROOT / url.group(1)).is_file(), line
    assert not re.search(r"\s\S+\.ipynb(\s|$)", line.replace(url.group(0), "")), "no notebook path argument"
