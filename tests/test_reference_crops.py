"""The reference crops reproduce the published trackers' arithmetic on hand-made cases:
siamfc-pytorch's ``crop_and_resize`` and pysot's ``get_subwindow`` (centre, rounding,
padding colour); the default stays the exact sub-pixel crop."""
import numpy as np
import pytest

from tracker import ConfigError
from tracker.config import with_overrides
from tracker.geometry import context_size, crop_and_resize, crop_pysot, crop_siamfc_pytorch, square_crop
from tracker.trackers import SiamFCTracker, SiamRPNTracker
from tracker.zoo import model_config

# pixel (x, y) holds x in channel 0 and y in channel 1: a crop says where it was cut
WIDTH, HEIGHT = 40, 30
YY, XX = np.mgrid[0:HEIGHT, 0:WIDTH]
INDEX = np.stack([XX, YY, np.full_like(XX, 7)], axis=-1).astype(np.uint8)


def origin(patch):
    """The image pixel (x, y) at a crop's top-left corner (crops at their own size)."""
    return int(patch[0, 0, 0]), int(patch[0, 0, 1])


def test_siamfc_pytorch_rounds_the_side_and_the_corners_half_to_even():
    # side 4.4 -> 4; first column round(10.5 - 1.5) = 9, first row round(7 - 1.5) = round(5.5) = 6
    patch = crop_siamfc_pytorch(INDEX, (10.5, 7.0), 4.4, 4)
    assert origin(patch) == (9, 6) and np.array_equal(patch, INDEX[6:10, 9:13])
    assert crop_siamfc_pytorch(INDEX, (10.0, 7.0), 2.5, 2).shape == (2, 2, 3)  # round(2.5) = 2
    assert origin(crop_siamfc_pytorch(INDEX, (10.0, 7.0), 3.5, 4)) == (8, 6)  # round(3.5) = 4: round(8.5) = 8, round(5.5) = 6
    # then one bilinear cv2.resize of that integer window
    import cv2

    assert np.array_equal(crop_siamfc_pytorch(INDEX, (20.0, 15.0), 11, 5), cv2.resize(INDEX[10:21, 15:26], (5, 5)))


def test_pysot_places_its_window_up_left_of_the_centre():
    # sz 4: first column floor(10 - 2.5 + 0.5) = 8 -> columns 8..11, centre 9.5 (half a pixel left of 10)
    assert origin(crop_pysot(INDEX, (10.0, 7.0), 4, 4)) == (8, 5)
    # sz 5: floor(10 - 3 + 0.5) = 7 -> columns 7..11, centre 9 (a whole pixel left); the exact crop is centred on 10
    assert origin(crop_pysot(INDEX, (10.0, 7.0), 5, 5)) == (7, 4)
    assert origin(crop_and_resize(INDEX, (10.0, 7.0), 5, 5)) == (8, 5)
    assert origin(crop_pysot(INDEX, (10.4, 7.6), 5, 5)) == (7, 5)  # floor(7.9) = 7, floor(5.1) = 5


@pytest.mark.parametrize("crop, expected", [(crop_siamfc_pytorch, (101, 20, 31)),  # OpenCV rounds the colour
                                            (crop_pysot, (100, 20, 30))])          # numpy's uint8 cast truncates it
def test_padding_colour_outside_the_frame(crop, expected):
    patch = crop(INDEX, (0.0, 0.0), 6, 6, (100.6, 20.2, 30.7))  # the window's top-left lies outside the frame
    assert tuple(patch[0, 0]) == expected
    inside = np.argwhere(patch[:, :, 2] == 7)
    assert len(inside) and tuple(patch[tuple(inside[0])][:2]) == (0, 0)  # the frame's corner pixel lands inside the window
    assert tuple(crop(INDEX, (500.0, 500.0), 4, 4, (100.6, 20.2, 30.7))[2, 2]) == expected  # wholly outside: all border


def test_exact_stays_the_default():
    for name in ("siamfc", "siamrpn", "mobilenet_fc", "light"):
        cfg = model_config(name)
        assert cfg.siamfc.crop == "exact" and cfg.siamrpn.crop == "exact"
    image = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    assert np.array_equal(square_crop(image, (30.3, 20.6), 33.7, 17, (1, 2, 3)), crop_and_resize(image, (30.3, 20.6), 33.7, 17, (1, 2, 3)))
    # the exact crop is centred where asked: on whole pixels it is the image itself, between
    # them it interpolates (no snapping to the grid)
    assert np.array_equal(crop_and_resize(INDEX, (10.5, 7.5), 4, 4), INDEX[6:10, 9:13])
    assert crop_and_resize(INDEX, (10.0, 7.0), 4, 4)[0, 0, 0] in (8, 9)  # column 8.5: halfway between 8 and 9


def test_crop_is_validated_like_other_config_fields():
    with pytest.raises(ConfigError, match="siamfc.crop must be one of exact, siamfc-pytorch, pysot"):
        with_overrides(model_config("siamfc"), {"siamfc.crop": "opencv"})
    with pytest.raises(ConfigError, match="siamrpn.crop must be"):
        with_overrides(model_config("siamrpn"), {"siamrpn.crop": 3})


class Recording:
    """A network double that keeps the crops it is given."""

    def __init__(self, outputs):
        self.crops, self.outputs = [], outputs

    def template(self, crops):
        self.crops.append(crops)
        return (np.zeros((len(crops), 1, 1, 1), np.float32),)

    def track(self, crops, *kernels):
        self.crops.append(crops)
        return self.outputs(len(crops))


def test_trackers_cut_their_crops_with_the_configured_arithmetic():
    image = np.random.default_rng(1).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    box = (50.0, 40.0, 21.0, 30.0)
    cfg = with_overrides(model_config("siamfc"), {"siamfc.crop": "siamfc-pytorch"})
    net = Recording(lambda n: (np.zeros((n, 1, 17, 17), np.float32),))
    tracker = SiamFCTracker(net, cfg)
    tracker.init(image, box)
    p, state = cfg.siamfc, tracker.state
    assert np.array_equal(net.crops[0][0], crop_siamfc_pytorch(image, state.center, state.extra["z_sz"], p.exemplar_size, state.avg_color))
    x_sz = state.extra["x_sz"]
    tracker.update(image)  # the middle scale's search crop, cut around the initial centre
    assert np.array_equal(net.crops[1][1], crop_siamfc_pytorch(image, (60.0, 54.5), x_sz, p.instance_size, state.avg_color))

    cfg = with_overrides(model_config("siamrpn"), {"siamrpn.crop": "pysot"})
    anchors = cfg.head.anchor_num
    net = Recording(lambda n: (np.zeros((n, 2 * anchors, 25, 25), np.float32), np.zeros((n, 4 * anchors, 25, 25), np.float32)))
    tracker = SiamRPNTracker(net, cfg)
    tracker.init(image, box)
    side = round(context_size(box[2:], cfg.siamrpn.context))
    assert np.array_equal(net.crops[0][0], crop_pysot(image, (60.0, 54.5), side, cfg.siamrpn.exemplar_size, tracker.state.avg_color))
    result = tracker.update(image)
    cx, cy = tracker.state.center
    w, h = tracker.state.size
    assert result.box == pytest.approx((cx - w / 2, cy - h / 2, w, h))  # pysot's report, half a pixel off ours
