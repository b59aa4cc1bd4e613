"""What a new user meets first: the model listing, eval's printed summary, the results
files' shape, the on-frame fps, and the exported-graph tracker from the top-level API."""
from __future__ import annotations

import pytest

from tracker.cli import main
from tracker.zoo import manifest


@pytest.mark.parametrize("args", [["--list-models"], ["track", "--list-models"]])
def test_list_models_says_what_to_choose_by(args, capsys, monkeypatch):
    monkeypatch.delenv("SIAMTRACK_WEIGHTS", raising=False)  # the real shipped weights
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    models = manifest()["models"]
    for name, entry in models.items():
        line = next(row for row in lines if row.split()[0] == name)
        assert entry["description"] in line and f"val AUC {entry['val_auc']:.3f}" in line and f"{entry['fps']:.0f} fps" in line
    assert "[default]" in next(row for row in lines if row.startswith("mobilenet_fc "))
