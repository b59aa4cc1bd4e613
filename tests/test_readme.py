"""The README and docs/ as a user reads them: short, every Python block runs as written on a
generated clip, the model table is the manifest's, the links resolve, the export page's shapes
are a real export's, and the quick start's test command is the one CI runs."""
from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import pytest

from tracker.video.demo import generate_clip
from tracker.zoo import DEFAULT_MODEL, manifest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = sorted((ROOT / "docs").glob("*.md"))
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
TEST_COMMAND = 'pip install torch==2.13.0 -e ".[test]" && python -m pytest -q'


def test_readme_is_short():
    assert len(README.encode()) < 10_000


@pytest.fixture
def clip_file(tmp_path, monkeypatch):
    """``clip.mp4`` in the working folder: the generated clip whose target the snippets name."""
    clip = generate_clip(num_frames=40)
    writer = cv2.VideoWriter(str(tmp_path / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 30, clip.frames[0].shape[1::-1])
    for frame in clip.frames:
        writer.write(frame)
    writer.release()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SIAMTRACK_WEIGHTS", raising=False)  # the shipped models, as a user has them
    return clip


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_readme_python_blocks_run_as_written(index, clip_file, capsys):
    code = PYTHON_BLOCKS[index]
    for box in re.findall(r"\((291, 206, 58, 45)\)", code):  # the snippets' target is the clip's
        assert [float(v) for v in box.split(",")] == pytest.approx(list(clip_file.boxes[0]))
    exec(compile(code, f"README.md python block {index + 1}", "exec"), {"__name__": "__main__"})
    assert capsys.readouterr().out.strip()


def test_there_are_python_blocks():
    assert len(PYTHON_BLOCKS) >= 3


def test_quick_start_runs_the_command_ci_runs():
    assert TEST_COMMAND in README
    last = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert last == TEST_COMMAND.replace("pip install ", "pip install -q ", 1)
    assert 'python -m pytest -m "not slow"' in README


def test_model_table_is_the_manifests():
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `(\w+)`.*\|$", README, re.M)}
    models = manifest()["models"]
    assert set(rows) == set(models)
    for name, entry in models.items():
        cells = [c.strip() for c in rows[name].strip("|").split("|")]
        assert [cells[1].replace("`", ""), *cells[2:]] == [entry["description"], f"{entry['val_auc']:.3f}", f"{entry['fps']}"]
    assert "(default)" in rows[DEFAULT_MODEL]


@pytest.mark.parametrize("page", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_links_resolve(page):
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text()):
        if not target.startswith(("http://", "https://")):
            assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_docs_pages_the_readme_links():
    for name in ("evaluation", "training", "export", "architecture", "tracking"):
        assert f"(docs/{name}.md)" in README and (ROOT / "docs" / f"{name}.md").is_file()


@pytest.mark.slow
def test_export_page_states_the_default_models_real_shapes(tmp_path):
    """docs/export.md's table against what `siamtrack export` writes for the default model."""
    from tracker.export import export_onnx
    from tracker.zoo import load_model

    meta = json.loads(Path(export_onnx(load_model(DEFAULT_MODEL).build(), tmp_path, DEFAULT_MODEL)["config"]).read_text())
    page = (ROOT / "docs" / "export.md").read_text()

    def stated(row: str):
        cells = next(line for line in page.splitlines() if line.startswith(f"| {row} |")).strip("|").split("|")
        return [{n: [int(v) for v in s.split(",")] for n, s in re.findall(r"`(\w+) \[([\d, ]+)\]`", cell)} for cell in cells[1:]]

    z, kernel = meta["template"]["input"]
    assert stated("template") == [{z: kernel}, meta["template"]["outputs"]]
    assert stated("search") == [meta["search"]["inputs"], meta["search"]["outputs"]]
