"""The layers' import direction (pyproject.toml [tool.importlinter]): the core at the bottom,
the API and the command line on top. The contract is checked on the repository, and shown to
catch a module that imports upward."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PACKAGES = ("cli", "api", "orchestration", "assets", "quality", "warehouse")


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(lint), "--no-cache"], cwd=root, capture_output=True, text=True,
                          env={"PYTHONPATH": str(root), "PATH": str(lint.parent)})


def test_imports_flow_down_the_layers():
    result = _lint_imports(PROJECT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    for package in PACKAGES:
        shutil.copytree(PROJECT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(PROJECT / "pyproject.toml", tmp_path)
    retention = tmp_path / "warehouse" / "retention.py"
    retention.write_text(retention.read_text() + "\nfrom api.horizon import kept_from\n")

    result = _lint_imports(tmp_path)
    assert result.returncode == 1
    assert "Imports flow down the layers BROKEN" in result.stdout
    assert "warehouse.retention -> api.horizon" in result.stdout
