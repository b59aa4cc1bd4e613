"""A disk cache of the in-memory export of ``weights=`` checkpoints (no torch to read it).

``load_tracker(weights=PATH)`` on onnxruntime exports the checkpoint's network to ONNX,
which needs torch and takes most of ten seconds on a small CPU (importing torch and onnx,
tracing three graphs). The graphs and the checkpoint's config are kept here, keyed by the
file's sha256, the config that fixes the graphs' shapes and the exporting code, so the
next load of the same file takes what a shipped model takes. Anything unreadable or
unwritable is a miss, never an error.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional, Union

from ..config import ModelConfig, from_dict
from ..digest import sha256_of, sha256_of_files

log = logging.getLogger(__name__)
ROLES = ("template", "search", "search_one_target")
_PACKAGE = Path(__file__).resolve().parents[1]


def cache_root() -> Path:
    """``$SIAMTRACK_CACHE``, else ``$XDG_CACHE_HOME/siamtrack`` (``~/.cache/siamtrack``)."""
    env = os.environ.get("SIAMTRACK_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "siamtrack"


def _code_digest() -> str:
    """The code that makes the graphs: the networks and the exporter."""
    return sha256_of_files([*sorted((_PACKAGE / "models").glob("*.py")), _PACKAGE / "export" / "onnx.py"])


def graphs_key(weights_sha256: str, shapes: Any) -> str:
    """The cache folder's name for one checkpoint's graphs at one set of graph shapes."""
    text = json.dumps([weights_sha256, repr(shapes), _code_digest()])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def recorded_config(weights: Union[str, Path]) -> Optional[ModelConfig]:
    """The config of the checkpoint ``weights`` as recorded by an earlier export, or None."""
    try:
        data = json.loads((cache_root() / "configs" / f"{sha256_of(weights)}.json").read_text())
        return from_dict(data)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def load(weights: Union[str, Path], shapes: Any) -> Optional[Dict[str, Any]]:
    """``{"files": {role: path}, "meta": meta}`` of the cached graphs, or None."""
    folder = cache_root() / "graphs" / graphs_key(sha256_of(weights), shapes)
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    files = {role: folder / f"{role}.onnx" for role in ROLES if (folder / f"{role}.onnx").is_file()}
    return {"files": files, "meta": meta} if "template" in files and "search" in files else None


def store(weights: Union[str, Path], shapes: Any, checkpoint_config: Dict[str, Any], graphs: Dict[str, bytes],
          meta: Dict[str, Any]) -> None:
    """Keep ``graphs`` (bytes by role) and their description, and the checkpoint's config."""
    sha = sha256_of(weights)
    root = cache_root()
    folder = root / "graphs" / graphs_key(sha, shapes)
    try:
        (root / "graphs").mkdir(parents=True, exist_ok=True)
        (root / "configs").mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=root / "graphs", prefix=".new-"))
        for role, graph in graphs.items():
            (tmp / f"{role}.onnx").write_bytes(graph)
        (tmp / "meta.json").write_text(json.dumps(meta))
        if folder.exists():
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, folder)
        config_path = root / "configs" / f"{sha}.json"
        config_tmp = config_path.with_name(config_path.name + f".{os.getpid()}.tmp")
        config_tmp.write_text(json.dumps(checkpoint_config))
        os.replace(config_tmp, config_path)
        log.info("kept the exported graphs of %s in %s: the next load needs no export", weights, folder)
    except OSError as exc:
        log.info("no graph cache (%s): the next load of %s exports again", exc, weights)


def cached_net(weights: Union[str, Path], shapes: Any, config: ModelConfig, threads: int):
    """The cached graphs of ``weights`` at ``shapes`` as an onnxruntime network for ``config``, or None."""
    from ..config import to_dict
    from .runtime import ExportedNet

    found = load(weights, shapes)
    if found is None:
        return None
    files = found["files"]
    log.debug("graphs of %s from the cache", weights)
    return ExportedNet(files["template"], files["search"], {**found["meta"], "config": to_dict(config)}, "onnxruntime",
                       threads, files.get("search_one_target"))


def export_and_keep(weights: Union[str, Path], shapes: Any, checkpoint_config: Dict[str, Any], net: Any, threads: int):
    """``net`` exported in memory and run by onnxruntime (:meth:`ExportedNet.from_network`),
    its graphs kept for the next load of ``weights`` (needs torch and onnx)."""
    from .onnx import runtime_graphs
    from .runtime import ExportedNet

    graphs, meta = runtime_graphs(net)
    store(weights, shapes, checkpoint_config, graphs, meta)
    return ExportedNet(graphs["template"], graphs["search"], meta, "onnxruntime", threads, graphs.get("search_one_target"))
