"""Training on a user's class-per-folder images: layout checks before any step, decoding,
resizing and cropping, the held-out split, and a run through the CLI that evaluates."""

import numpy as np
import pytest
from PIL import Image

from imf.data import folder
from imf.training.train import main


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setattr(folder, "CACHE_DIR", tmp_path / "cache")


def write_images(root, classes: dict, size=(12, 8), mode="RGB", suffix=".png"):
    rng = np.random.default_rng(0)
    for name, count in classes.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
            Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8), mode).save(
                root / name / f"{i:03d}{suffix}")
    return root


def run_cli(args, capsys):
    code = main(args)
    return code, capsys.readouterr().err


def test_class_names_are_the_sorted_folder_names(tmp_path):
    root = write_images(tmp_path / "d", {"zebra": 1, "apple": 1, "mango": 1})
    (root / ".hidden").mkdir()
    assert folder.class_names(root) == ["apple", "mango", "zebra"]


def test_images_are_resized_by_the_short_side_and_centre_cropped(tmp_path):
    root = tmp_path / "d"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    wide = np.zeros((8, 16, 3), np.uint8)
    wide[:, 4:12] = 255  # a white centre square between black side bars
    Image.fromarray(wide).save(root / "a" / "x.png")
    Image.fromarray(np.zeros((30, 20), np.uint8), "L").save(root / "b" / "y.jpg")
    images, labels, _ = folder.decode_all(root, 4, 3)
    assert images.shape == (2, 4, 4, 3) and labels.tolist() == [0, 1]
    assert images[0].min() >= 200  # the crop kept the centre, not the black bars
    gray, _, _ = folder.decode_all(root, 4, 1)
    assert gray.shape == (2, 4, 4)


def test_every_tenth_image_of_a_class_is_held_out(tmp_path):
    root = write_images(tmp_path / "d", {"a": 20, "b": 10}, size=(4, 4))
    train, test = folder.load_folder(root, 4, 1, "train"), folder.load_folder(root, 4, 1, "test")
    assert len(train.labels) == 27 and sorted(test.labels.tolist()) == [0, 0, 1]


@pytest.mark.parametrize("layout,message", [
    ({"only": 3}, "needs at least two"),
    ({"a": 2, "b": 0}, "has no PNG or JPEG images"),
])
def test_bad_layouts_stop_before_training(tmp_path, capsys, layout, message):
    root = write_images(tmp_path / "d", {k: v for k, v in layout.items()})
    for name, count in layout.items():
        (root / name).mkdir(exist_ok=True)
    code, err = run_cli(["--data", str(root), "--resolution", "8", "--out", str(tmp_path / "run")],
                        capsys)
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_an_unreadable_image_is_named(tmp_path, capsys):
    root = write_images(tmp_path / "d", {"a": 2, "b": 2})
    (root / "b" / "broken.png").write_bytes(b"not a png")
    code, err = run_cli(["--data", str(root), "--resolution", "8", "--out", str(tmp_path / "run")],
                        capsys)
    assert code == 2 and "broken.png" in err and "cannot read image" in err


def test_a_resolution_the_patches_cannot_tile_is_refused(tmp_path, capsys):
    root = write_images(tmp_path / "d", {"a": 2, "b": 2})
    code, err = run_cli(["--data", str(root), "--resolution", "30", "--out", str(tmp_path / "r")],
                        capsys)
    assert code == 2 and "cannot be tiled" in err and "multiple of 4" in err


def test_a_missing_folder_is_a_clear_error(tmp_path, capsys):
    code, err = run_cli(["--data", str(tmp_path / "nope"), "--resolution", "8",
                         "--out", str(tmp_path / "r")], capsys)
    assert code == 2 and "not found" in err


def test_an_rgb_folder_trains_and_its_checkpoint_knows_the_classes(tmp_path, capsys):
    from imf.training import checkpoint as ckpt

    root = write_images(tmp_path / "d", {"cat": 12, "dog": 12, "owl": 12}, size=(10, 10))
    code, err = run_cli(["--data", str(root), "--resolution", "8", "--channels", "3", "--preset",
                         "smoke", "--set", "steps=2", "--set", "batch_size=4", "--set",
                         "model.patch_size=4", "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err
    state = ckpt.load(tmp_path / "run" / "last.safetensors")
    cfg = state.config
    assert cfg.dataset == "folder" and cfg.class_names == ("cat", "dog", "owl")
    assert (cfg.model.image_size, cfg.model.channels, cfg.model.num_classes) == (8, 3, 3)
