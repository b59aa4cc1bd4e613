import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tracker.geometry import (
    CROP_SUBPIXEL,
    clip_box,
    context_size,
    crop_and_resize,
    cxcywh_to_xywh,
    iou,
    snap_to_crop_grid,
    xywh_to_cxcywh,
)


def test_center_convention_matches_siamfc_pytorch():
    # siamfc-pytorch: centre = box[1]-1 + (box[3]-1)/2 on 1-based boxes
    assert np.allclose(xywh_to_cxcywh((10, 20, 30, 40)), [10 + 14.5, 20 + 19.5, 30, 40])
    assert cxcywh_to_xywh((24.5, 39.5), (30, 40)) == (10.0, 20.0, 30.0, 40.0)


def test_iou_hand_computed():
    assert iou(np.array([0, 0, 10, 10]), np.array([5, 0, 10, 10])) == pytest.approx(50 / 150)
    assert iou(np.array([0, 0, 10, 10]), np.array([20, 20, 5, 5])) == 0.0
    assert iou(np.array([0, 0, 10, 10]), np.array([0, 0, 10, 10])) == 1.0


def test_context_size():
    # w=30, h=10, p=0.5*(40)=20 -> sqrt(50*30)
    assert context_size((30, 10), 0.5) == pytest.approx(np.sqrt(1500))


def test_crop_samples_the_right_pixels():
    # image whose value encodes the column: crop centre must read the centre column
    image = np.tile(np.arange(200, dtype=np.uint8)[None, :, None], (100, 1, 3))
    crop = crop_and_resize(image, (120.0, 50.0), 64, 64)
    assert crop.shape == (64, 64, 3)
    # identity scale: output column j samples input column 120 + (j - 31.5)
    assert abs(int(crop[32, 0, 0]) - 88.5) <= 1
    assert abs(int(crop[32, 63, 0]) - (120 + 31.5)) <= 1


def test_crop_pads_with_border_value():
    image = np.full((50, 50, 3), 200, np.uint8)
    crop = crop_and_resize(image, (0.0, 0.0), 40, 40, border_value=(7, 8, 9))
    assert tuple(crop[0, 0]) == (7, 8, 9)
    assert tuple(crop[-1, -1]) == (200, 200, 200)


def test_crop_downscales_by_side_over_output():
    image = np.tile(np.arange(256, dtype=np.uint8)[None, :, None], (256, 1, 3))
    crop = crop_and_resize(image, (127.5, 127.5), 256, 128)
    # each output pixel spans two input columns: value ~ 2*j + 0.5
    assert np.allclose(crop[64, 10:20, 0], 2 * np.arange(10, 20) + 0.5, atol=1)


def test_crop_rejects_bad_side():
    with pytest.raises(ValueError):
        crop_and_resize(np.zeros((10, 10, 3), np.uint8), (5, 5), 0, 10)


@settings(max_examples=60, deadline=None)
@given(st.floats(-50, 150), st.floats(-50, 150), st.floats(0.5, 80), st.floats(0.5, 80))
def test_box_roundtrip_and_clip_properties(x, y, w, h):
    c = xywh_to_cxcywh((x, y, w, h))
    assert np.allclose(cxcywh_to_xywh(c[:2], c[2:]), (x, y, w, h))
    cx, cy, cw, ch = clip_box((x, y, w, h), 100, 80)
    assert 0 <= cx <= 100 and 0 <= cy <= 80 and cw >= 0 and ch >= 0
    assert cx + cw <= 100 + 1e-9 and cy + ch <= 80 + 1e-9
    assert iou(np.array([x, y, w, h]), np.array([x, y, w, h])) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 2000), st.floats(0, 2000), st.floats(-1e-5, 1e-5))
def test_centres_on_the_crop_grid_give_identical_crops(x, y, noise):
    """Two centres a float-noise apart snap to the same grid point, unless they straddle a
    grid boundary - and then the two points are one grid step apart, never more."""
    a, b = snap_to_crop_grid((x, y)), snap_to_crop_grid((x + noise, y - noise))
    assert np.abs(a - (x, y)).max() <= CROP_SUBPIXEL / 2 + 1e-12
    assert np.all(np.isclose(a, b) | np.isclose(np.abs(a - b), CROP_SUBPIXEL))
    assert np.allclose(a / CROP_SUBPIXEL, np.round(a / CROP_SUBPIXEL))


def test_crop_is_exactly_reproducible_from_a_snapped_centre():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    centre = np.array([80.3, 59.7])
    nudged = centre + 3e-6
    assert not np.array_equal(crop_and_resize(image, centre, 61.3, 64), crop_and_resize(image, nudged + 0.01, 61.3, 64))
    snapped = [crop_and_resize(image, snap_to_crop_grid(c), 61.3, 64) for c in (centre, nudged)]
    assert np.array_equal(*snapped)
