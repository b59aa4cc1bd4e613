"""Export a model as two ONNX graphs - the template branch and the search branch taking
the template kernels as inputs (the layout OpenCV's NanoTrack uses) - plus a JSON with
the tracker's configuration. Correlations use the Slice + MatMul formulation, so the
graphs run in onnxruntime and in OpenCV's DNN module alike (the in-memory onnxruntime
fast path may keep them as convolutions instead)."""
from __future__ import annotations

import hashlib
import io
import json
import logging
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from ..config import ModelConfig, to_dict
from ..models import SearchBranch, SiameseNet, TemplateBranch
from ..models.fuse import fuse_batchnorm
from ..models.heads import use_matmul_correlation
from ..digest import sha256_of
from ..trackers.siamfc import scale_factors

log = logging.getLogger(__name__)
OPSET = 13


class _PixelsLast(nn.Module):
    """Takes the image input as NHWC (the crops' own memory layout) and hands the branch NCHW:
    onnxruntime folds that transpose into its own layout change, so no copy is made in Python."""

    def __init__(self, branch: nn.Module) -> None:
        super().__init__()
        self.branch = branch

    def forward(self, pixels: torch.Tensor, *kernels: torch.Tensor):
        return self.branch(pixels.permute(0, 3, 1, 2), *kernels)


def _onnx_bytes(module: nn.Module, args: Tuple[torch.Tensor, ...], inputs: List[str], outputs: List[str],
                axes: Optional[Dict[str, Dict[int, str]]]) -> bytes:
    buffer = io.BytesIO()
    torch.onnx.export(module, args, buffer, input_names=inputs, output_names=outputs, dynamic_axes=axes,
                      opset_version=OPSET, dynamo=False, do_constant_folding=True)
    return buffer.getvalue()


def onnx_graphs(net: SiameseNet, dynamic_batch: bool = False, pixels_last: bool = False,
                conv_correlation: bool = False, with_template: bool = True) -> Tuple[Optional[bytes], bytes, Dict[str, Any]]:
    """The template and search graphs as ONNX bytes, and their description.

    ``dynamic_batch`` leaves the batch axis free (many targets per call in onnxruntime)
    and the search crop's size too (the wider crop of long-term re-detection); without it
    every shape is static, which OpenCV's DNN engine prefers. ``pixels_last`` makes the
    image inputs NHWC. ``conv_correlation`` keeps correlations as grouped convolutions
    (twice as fast as Slice + MatMul in onnxruntime, but not loadable by OpenCV; a
    convolution's groups are fixed, so every shape is static). ``with_template=False``
    skips tracing the template graph (``None`` in its place) for a second search graph.
    """
    if conv_correlation and dynamic_batch:
        raise ValueError("conv_correlation fixes the batch: it cannot be combined with dynamic_batch")
    cfg = net.config
    ready = fuse_batchnorm(net.cpu()).eval()
    if not conv_correlation:
        ready = use_matmul_correlation(ready)
    exemplar, instance = cfg.tracking.exemplar_size, cfg.tracking.instance_size
    z = torch.zeros(1, 3, exemplar, exemplar)
    x = torch.zeros(cfg.crops_per_frame, 3, instance, instance)
    with torch.no_grad():
        kernels = ready.template(z)
        search_kernels = kernels
        if cfg.kernels_per_target > 1:  # SiamFC's pyramid of templates: one (1, S*C, h, w) kernel per target
            search_kernels = tuple(k.repeat(1, cfg.kernels_per_target, 1, 1) for k in kernels)
        outputs = ready.track(x, *search_kernels)
    kernel_names = [f"kernel{i}" for i in range(len(kernels))]
    output_names = ["score"] if not net.is_rpn else ["cls", "loc"]
    template_axes = search_axes = None
    rows, cols = (1, 2) if pixels_last else (2, 3)
    if dynamic_batch:
        template_axes = {n: {0: "targets"} for n in ["z", *kernel_names]}
        search_axes = {"x": {0: "crops", rows: "height", cols: "width"}}
        search_axes.update({n: {0: "crops", 2: "rows", 3: "columns"} for n in output_names})
        search_axes.update({n: {0: "targets"} for n in kernel_names})
    with warnings.catch_warnings():  # shape checks in Python become constants: intended, shapes are static
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter: no onnxscript needed
        warnings.filterwarnings("ignore", "Constant folding", UserWarning)  # strided slices stay as Slice ops
        wrap = _PixelsLast if pixels_last else (lambda branch: branch)
        z_in, x_in = (z.permute(0, 2, 3, 1), x.permute(0, 2, 3, 1)) if pixels_last else (z, x)
        template_graph = _onnx_bytes(wrap(TemplateBranch(ready)), (z_in,), ["z"], kernel_names, template_axes) if with_template else None
        search_graph = _onnx_bytes(wrap(SearchBranch(ready)), (x_in, *search_kernels), ["x", *kernel_names], output_names, search_axes)
    meta = {
        "format": "siamtrack-onnx", "version": 1, "config": to_dict(cfg),
        "pixels_last": pixels_last,
        "template": {"input": ["z", list(z_in.shape)], "outputs": {n: list(k.shape) for n, k in zip(kernel_names, kernels)},
                     "usage": f"once per target: z is the {exemplar}x{exemplar} exemplar crop around it (a square of side "
                              "context_size = sqrt((w + p)(h + p)), p = context * (w + h), resized; outside the frame: the "
                              "frame's mean colour)"},
        "search": {"inputs": {"x": list(x_in.shape), **{n: list(k.shape) for n, k in zip(kernel_names, search_kernels)}},
                   "outputs": {n: list(o.shape) for n, o in zip(output_names, outputs)}, "dynamic_batch": dynamic_batch,
                   "usage": f"every frame: x is the {instance}x{instance} search crop around the last position (side "
                            f"context_size * {instance}/{exemplar}); the kernel inputs come from the template graph"},
        "input": f"float32 pixels 0-255, {'NHWC' if pixels_last else 'NCHW'}, channel order " + cfg.input_order.upper(),
    }
    if cfg.tracker == "siamfc":
        factors = scale_factors(cfg.siamfc)
        meta["scale_pyramid"] = _scale_pyramid_usage(cfg, factors, list(kernels[0].shape), list(search_kernels[0].shape))
    return template_graph, search_graph, meta


def _scale_pyramid_usage(cfg: ModelConfig, scale_factors: Sequence[float], kernel: List[int], search_kernel: List[int]) -> Dict[str, Any]:
    """How SiamFC's scales reach the graphs, for someone running them without siamtrack: the
    default model's search graph wants several template kernels stacked, not one."""
    p = cfg.siamfc
    factors = [float(f) for f in scale_factors]  # unrounded: rounded factors crop a hair off and shift the kernels
    if p.scale_search == "crops":
        usage = (f"x holds {p.scale_num} search crops, one per factor f (side context_size * {p.instance_size}/{p.exemplar_size} * f, "
                 f"each resized to {p.instance_size}); the template graph's kernel0 {kernel} goes in as it is; score has one map per crop")
    else:
        usage = (f"the search graph's kernel0 {search_kernel} is {p.scale_num} template kernels {kernel} stacked along channels: "
                 f"run the template graph on {p.scale_num} exemplar crops, one per factor f (side context_size / f, so the target "
                 f"looks f times larger, each resized to {p.exemplar_size}), scale each kernel to the L2 norm of the middle one "
                 f"(f = 1), and concatenate them in factor order; x is one search crop; score has one map per factor")
    return {"scale_search": p.scale_search, "scale_num": p.scale_num, "factors": factors, "usage": usage}


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


def runtime_graphs(net: SiameseNet) -> Tuple[Dict[str, bytes], Dict[str, Any]]:
    """The graphs the onnxruntime tracker runs, and their description: the template graph
    and a search graph with free batch and crop size (pools, re-detection), both NHWC, and
    for heads that correlate by convolution a static ``search_one_target`` graph keeping
    those convolutions for the common call - one target's tracking crops - where it is
    about twice as fast as the Slice + MatMul form (light: 3.3 vs 6.4 ms)."""
    template, search, meta = onnx_graphs(net, dynamic_batch=True, pixels_last=True)
    graphs = {"template": template, "search": search}
    if net.config.head.kind != "rpn_pixelwise":  # pixel-wise correlation is a MatMul already
        graphs["search_one_target"] = onnx_graphs(net, pixels_last=True, conv_correlation=True, with_template=False)[1]
    return graphs, meta


# weights below this many bytes stay inside their graph
_INLINE_BYTES = 1024
_ALIGN = 64


def write_runtime_graphs(net: SiameseNet, folder: Union[str, Path], name: str) -> Dict[str, Any]:
    """Write :func:`runtime_graphs` as ``<name>_<role>.onnx`` files into ``folder``, their
    weights once in ``<name>.onnx.data`` (the graphs share the backbone: an AlexNet model's
    three graphs hold 9 MB of distinct weights, not 28), and return what the manifest
    records of them: files with sha256 and size, and the graphs' description."""
    import onnx
    from onnx.external_data_helper import set_external_data

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    graphs, meta = runtime_graphs(net)
    data_name = f"{name}.onnx.data"
    blob = bytearray()
    offsets: Dict[bytes, Tuple[int, int]] = {}
    files: Dict[str, Path] = {}
    for role, graph in graphs.items():
        model = onnx.load_from_string(graph)
        for tensor in model.graph.initializer:
            raw = tensor.raw_data
            if len(raw) < _INLINE_BYTES:
                continue
            key = hashlib.sha256(raw).digest() + tensor.data_type.to_bytes(2, "little")
            if key not in offsets:
                blob.extend(b"\0" * (-len(blob) % _ALIGN))
                offsets[key] = (len(blob), len(raw))
                blob.extend(raw)
            set_external_data(tensor, location=data_name, offset=offsets[key][0], length=offsets[key][1])
            tensor.ClearField("raw_data")
            tensor.data_location = onnx.TensorProto.EXTERNAL
        files[role] = out / f"{name}_{role}.onnx"
        files[role].write_bytes(model.SerializeToString())
    files["data"] = out / data_name
    files["data"].write_bytes(bytes(blob))
    meta.pop("config")  # the manifest entry holds it
    return {"files": {role: {"file": p.name, "sha256": sha256_of(p), "bytes": p.stat().st_size} for role, p in files.items()},
            "opset": OPSET, "meta": meta}
