"""Export a model as two ONNX graphs - the template branch and the search branch taking
the template kernels as inputs (the layout OpenCV's NanoTrack uses) - plus a JSON with
the tracker's configuration. Correlations use the Slice + MatMul formulation, so the
graphs run in onnxruntime and in OpenCV's DNN module alike."""
from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Dict, Union

import torch

from ..config import to_dict
from ..models import SearchBranch, SiameseNet, TemplateBranch
from ..models.fuse import fuse_batchnorm
from ..models.heads import use_matmul_correlation

log = logging.getLogger(__name__)
OPSET = 13


def export_onnx(net: SiameseNet, out_dir: Union[str, Path], name: str = "model") -> Dict[str, str]:
    """Write ``<name>_template.onnx``, ``<name>_search.onnx`` and ``<name>.json`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = net.config
    ready = use_matmul_correlation(fuse_batchnorm(net.cpu()).eval())
    exemplar, instance = cfg.tracking.exemplar_size, cfg.tracking.instance_size
    z = torch.zeros(1, 3, exemplar, exemplar)
    x = torch.zeros(cfg.crops_per_frame, 3, instance, instance)
    with torch.no_grad():
        kernels = ready.template(z)
        outputs = ready.track(x, *kernels)
    kernel_names = [f"kernel{i}" for i in range(len(kernels))]
    output_names = ["score"] if not net.is_rpn else ["cls", "loc"]
    paths = {"template": str(out / f"{name}_template.onnx"), "search": str(out / f"{name}_search.onnx"), "config": str(out / f"{name}.json")}
    with warnings.catch_warnings():  # shape checks in Python become constants: intended, shapes are static
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter: no onnxscript needed
        torch.onnx.export(TemplateBranch(ready), (z,), paths["template"], input_names=["z"], output_names=kernel_names,
                          opset_version=OPSET, dynamo=False, do_constant_folding=True)
        torch.onnx.export(SearchBranch(ready), (x, *kernels), paths["search"], input_names=["x", *kernel_names],
                          output_names=output_names, opset_version=OPSET, dynamo=False, do_constant_folding=True)
    meta = {
        "format": "siamtrack-onnx", "version": 1, "config": to_dict(cfg),
        "template": {"file": Path(paths["template"]).name, "input": ["z", list(z.shape)], "outputs": {n: list(k.shape) for n, k in zip(kernel_names, kernels)}},
        "search": {"file": Path(paths["search"]).name, "inputs": {"x": list(x.shape)}, "outputs": {n: list(o.shape) for n, o in zip(output_names, outputs)}},
        "input": "float32 pixels 0-255, NCHW, channel order " + cfg.input_order.upper(),
    }
    Path(paths["config"]).write_text(json.dumps(meta, indent=1))
    log.info("exported %s to %s", name, out)
    return paths
