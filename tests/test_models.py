import pytest
import torch

from tracker.models import SiameseNet
from tracker.trackers.anchors import anchor_grid, anchor_shapes
from tracker.zoo import architectures, model_config


@pytest.mark.parametrize(
    "name, search, template_shape, out_shapes",
    [
        ("siamfc", 255, [(1, 256, 6, 6)], [(3, 1, 17, 17)]),
        ("siamrpn", 287, [(1, 256, 4, 4), (1, 256, 4, 4)], [(1, 10, 21, 21), (1, 20, 21, 21)]),
        ("siamrpn_up", 255, [(1, 2560, 4, 4), (1, 5120, 4, 4)], [(1, 10, 17, 17), (1, 20, 17, 17)]),
        ("light", 255, [(1, 96, 8, 8)], [(1, 10, 25, 25), (1, 20, 25, 25)]),
        ("light_fc", 255, [(1, 96, 8, 8)], [(3, 1, 25, 25)]),
    ],
)
def test_branch_shapes(name, search, template_shape, out_shapes):
    net = SiameseNet(model_config(name)).eval()
    with torch.no_grad():
        kernels = net.template(torch.rand(1, 3, 127, 127) * 255)
        batch = 1 if net.is_rpn else 3  # SiamFC trackers search three scales
        outputs = net.track(torch.rand(batch, 3, search, search) * 255, *kernels)
    assert [tuple(k.shape) for k in kernels] == template_shape
    assert [tuple(o.shape) for o in outputs] == out_shapes


def test_siamfc_backbone_sizes_of_the_paper():
    net = SiameseNet(model_config("siamfc")).eval()
    with torch.no_grad():
        assert net.backbone(torch.zeros(1, 3, 255, 255)).shape == (1, 256, 22, 22)


@pytest.mark.parametrize("name", ["siamfc", "siamrpn", "light", "light_fc", "mobilenet_fc"])
def test_cached_template_equals_joint_forward_and_batches(name):
    torch.manual_seed(0)
    cfg = model_config(name)
    net = SiameseNet(cfg).eval()
    size = cfg.siamrpn.instance_size if net.is_rpn else cfg.siamfc.instance_size
    z = torch.rand(2, 3, 127, 127) * 255
    x = torch.rand(2, 3, size, size) * 255
    with torch.no_grad():
        joint = net(z, x)
        kernels = net.template(z)
        split = net.track(x, *kernels)
        single = net.track(x[1:], *[k[1:] for k in kernels])
    for a, b in zip(joint, split):
        assert torch.allclose(a, b, atol=1e-5)
    for a, b in zip(split, single):
        assert torch.allclose(a[1:], b, atol=1e-4)


def test_anchor_shapes_match_pysot():
    # pysot: stride 8, ratios [0.33, 0.5, 1, 2, 3], scale 8 -> ws=int(sqrt(64/r)), hs=int(ws*r)
    shapes = anchor_shapes(8, (0.33, 0.5, 1, 2, 3), (8,))
    assert shapes.tolist() == [[104, 32], [88, 40], [64, 64], [40, 80], [32, 96]]
    grid = anchor_grid(8, (0.33, 0.5, 1, 2, 3), (8,), 21)
    assert grid.shape == (4, 5 * 21 * 21)
    assert grid[0, 0] == -80 and grid[1, 0] == -80 and grid[0, 1] == -72  # x varies fastest


def test_light_model_is_light():
    from tracker.models.flops import count_macs

    net = SiameseNet(model_config("light")).eval()
    macs = count_macs(net, 255)
    assert macs < 0.25e9  # per frame (search branch), multiply-accumulates
    assert sum(p.numel() for p in net.parameters()) < 1e6


def test_every_architecture_builds():
    for name in architectures():
        SiameseNet(model_config(name))


@pytest.mark.parametrize("name", ["siamfc", "siamrpn", "light", "light_fc", "mobilenet_fc"])
def test_fused_network_gives_the_same_outputs(name):
    from tracker.models.fuse import optimize_for_inference

    torch.manual_seed(0)
    cfg = model_config(name)
    net = SiameseNet(cfg)
    # non-trivial BatchNorm statistics
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    net.eval()
    fast = optimize_for_inference(net, torch.device("cpu"))
    size = cfg.siamrpn.instance_size if net.is_rpn else cfg.siamfc.instance_size
    z, x = torch.rand(1, 3, 127, 127) * 255, torch.rand(1, 3, size, size) * 255
    with torch.no_grad():
        for a, b in zip(net(z, x), fast(z, x)):
            assert torch.allclose(a, b, rtol=1e-3, atol=1e-3 * a.abs().max().item())
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
