"""The official got10k toolkit runs our tracker and agrees with our metrics."""
import numpy as np
import pytest

got10k = pytest.importorskip("got10k")

from tracker.eval.experiment import TrackerSpec, load_results, run_experiment  # noqa: E402
from tracker.eval.got10k_adapter import Got10kTracker, LocalExperimentOTB  # noqa: E402
from tracker.eval.metrics import got10k_overall, score_sequence  # noqa: E402
from tracker.data.readers import read_got10k, read_otb  # noqa: E402


@pytest.fixture(scope="module")
def light_weights(random_light_weights):
    return random_light_weights


@pytest.fixture(scope="module")
def got10k_dataset(tmp_path_factory):
    import cv2
    from tracker.video.demo import generate_clip

    root = tmp_path_factory.mktemp("got")
    val = root / "val"
    names = []
    for seed in (4, 5):
        clip = generate_clip(num_frames=15, width=256, height=192, seed=seed, base_size=(40, 32))
        name = f"GOT-10k_Val_{seed:06d}"
        folder = val / name
        folder.mkdir(parents=True)
        for i, f in enumerate(clip.frames):
            cv2.imwrite(str(folder / f"{i + 1:08d}.jpg"), f)
        boxes = clip.boxes.copy()
        boxes[-1] = [240, 180, 40, 30]  # partly outside: the toolkit clips it
        np.savetxt(folder / "groundtruth.txt", boxes, fmt="%.4f", delimiter=",")
        cover = np.full(15, 8)
        cover[7] = 0
        absence = (cover == 0).astype(int)
        (folder / "cover.label").write_text("".join(f"{c}\n" for c in cover))
        (folder / "absence.label").write_text("".join(f"{a}\n" for a in absence))
        (folder / "cut_by_image.label").write_text("0\n" * 15)
        (folder / "meta_info.ini").write_text("[METAINFO]\nurl: none\nresolution: (256, 192)\n")
        names.append(name)
    (val / "list.txt").write_text("\n".join(names) + "\n")
    return root


@pytest.mark.slow
def test_experiment_got10k_reports_our_ao(got10k_dataset, light_weights, tmp_path):
    from got10k.experiments import ExperimentGOT10k

    spec = TrackerSpec(name="light_test", model="light", weights=light_weights)
    exp = ExperimentGOT10k(str(got10k_dataset), subset="val", result_dir=str(tmp_path / "res"), report_dir=str(tmp_path / "rep"))
    exp.run(Got10kTracker(spec))
    performance = exp.report([spec.name])[spec.name]["overall"]

    # our harness on the same sequences, results in the same layout
    seqs = read_got10k(got10k_dataset / "val")
    ours_dir = tmp_path / "ours"
    run_experiment([spec], seqs, str(ours_dir))
    runs = []
    for seq in seqs:
        pred, _ = load_results(str(ours_dir), spec.name, seq)
        theirs = np.loadtxt(tmp_path / "res" / "GOT-10k" / spec.name / seq.name / f"{seq.name}_001.txt", delimiter=",")
        assert np.allclose(pred, theirs, atol=1e-3)  # same tracker, same boxes
        runs.append((pred, seq.boxes, seq.visible, (256, 192)))
    ours = got10k_overall(runs)
    assert ours["ao"] == pytest.approx(performance["ao"], abs=1e-6)
    assert ours["sr50"] == pytest.approx(performance["sr"], abs=1e-6)


def test_local_otb_experiment_agrees_with_our_auc(got10k_dataset, light_weights, tmp_path):
    import shutil

    otb = tmp_path / "otb"
    for seq in read_got10k(got10k_dataset / "val"):
        img = otb / seq.name / "img"
        img.mkdir(parents=True)
        for i, f in enumerate(seq.frames):
            shutil.copy(f, img / f"{i + 1:04d}.jpg")
        np.savetxt(otb / seq.name / "groundtruth_rect.txt", seq.boxes + [1, 1, 0, 0], fmt="%.4f", delimiter=",")
    spec = TrackerSpec(name="light_test", model="light", weights=light_weights)
    exp = LocalExperimentOTB(str(otb), result_dir=str(tmp_path / "r"), report_dir=str(tmp_path / "p"))
    exp.run(Got10kTracker(spec))
    performance = exp.report([spec.name])[spec.name]
    for seq in read_otb(otb):
        pred = np.loadtxt(tmp_path / "r" / "OTBlocal" / spec.name / f"{seq.name}.txt", delimiter=",")
        ours = score_sequence(pred, seq.boxes, absent=None, skip_first=False)  # the toolkit scores frame 0 too
        assert ours.auc == pytest.approx(performance["seq_wise"][seq.name]["success_score"], abs=1e-9)
        assert ours.precision == pytest.approx(performance["seq_wise"][seq.name]["precision_score"], abs=1e-9)
