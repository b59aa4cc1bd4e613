"""Export a model as two ONNX graphs - the template branch and the search branch taking
the template kernels as inputs (the layout OpenCV's NanoTrack uses) - plus a JSON with
the tracker's configuration. Correlations use the Slice + MatMul formulation, so the
graphs run in onnxruntime and in OpenCV's DNN module alike."""
from __future__ import annotations

import io
import json
import logging
import warnings
from pathlib import Path
from typing import Any, Dict, Tuple, Union

import torch

from ..config import to_dict
from ..models import SearchBranch, SiameseNet, TemplateBranch
from ..models.fuse import fuse_batchnorm
from ..models.heads import use_matmul_correlation

log = logging.getLogger(__name__)
OPSET = 13


def onnx_graphs(net: SiameseNet, dynamic_batch: bool = False) -> Tuple[bytes, bytes, Dict[str, Any]]:
    """The template and search graphs as ONNX bytes, and their description.

    ``dynamic_batch`` leaves the batch axis free (many targets per call in onnxruntime)
    and the search crop's size too (the wider crop of long-term re-detection); without it
    every shape is static, which OpenCV's DNN engine prefers.
    """
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
    template_axes = search_axes = None
    if dynamic_batch:
        template_axes = {n: {0: "targets"} for n in ["z", *kernel_names]}
        search_axes = {"x": {0: "crops", 2: "height", 3: "width"}}
        search_axes.update({n: {0: "crops", 2: "rows", 3: "columns"} for n in output_names})
        search_axes.update({n: {0: "targets"} for n in kernel_names})
    graphs = []
    with warnings.catch_warnings():  # shape checks in Python become constants: intended, shapes are static
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter: no onnxscript needed
        warnings.filterwarnings("ignore", "Constant folding", UserWarning)  # strided slices stay as Slice ops
        for module, args, inputs, outs, axes in (
            (TemplateBranch(ready), (z,), ["z"], kernel_names, template_axes),
            (SearchBranch(ready), (x, *kernels), ["x", *kernel_names], output_names, search_axes),
        ):
            buffer = io.BytesIO()
            torch.onnx.export(module, args, buffer, input_names=inputs, output_names=outs, dynamic_axes=axes,
                              opset_version=OPSET, dynamo=False, do_constant_folding=True)
            graphs.append(buffer.getvalue())
    meta = {
        "format": "siamtrack-onnx", "version": 1, "config": to_dict(cfg),
        "template": {"input": ["z", list(z.shape)], "outputs": {n: list(k.shape) for n, k in zip(kernel_names, kernels)}},
        "search": {"inputs": {"x": list(x.shape)}, "outputs": {n: list(o.shape) for n, o in zip(output_names, outputs)},
                   "dynamic_batch": dynamic_batch},
        "input": "float32 pixels 0-255, NCHW, channel order " + cfg.input_order.upper(),
    }
    return graphs[0], graphs[1], meta


def export_onnx(net: SiameseNet, out_dir: Union[str, Path], name: str = "model") -> Dict[str, str]:
    """Write ``<name>_template.onnx``, ``<name>_search.onnx`` and ``<name>.json`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    template, search, meta = onnx_graphs(net)
    paths = {"template": out / f"{name}_template.onnx", "search": out / f"{name}_search.onnx", "config": out / f"{name}.json"}
    paths["template"].write_bytes(template)
    paths["search"].write_bytes(search)
    meta["template"]["file"], meta["search"]["file"] = paths["template"].name, paths["search"].name
    paths["config"].write_text(json.dumps(meta, indent=1))
    log.info("exported %s to %s", name, out)
    return {k: str(v) for k, v in paths.items()}
