import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from glyphgen.errors import GlyphgenError
from glyphgen.io import save_image_set
from glyphgen.models import model_class
from glyphgen.params import parse_config
from glyphgen.training.checkpoint import load_generator, read_checkpoint
from glyphgen.training.loop import RESUME_NAME, TrainConfig, train
from tiny_models import TINY_OVERRIDES, kmnist_slice, tiny_config

REPO = Path(__file__).resolve().parents[1]
CONFIG = TrainConfig(device="cpu", log_every=3, sample_count=4)


@pytest.fixture(scope="module")
def images():
    return kmnist_slice(96)


def run(tmp_path, images, name="vae", epochs=2, **overrides):
    """Train a tiny model with batch 16 (6 steps an epoch); return the trained weights."""
    config = tiny_config(name, batch_size=16, **overrides)
    train(name, config, images, epochs, CONFIG, tmp_path / "out", tmp_path / "work", tmp_path / "live")
    return read_checkpoint(tmp_path / "out")["state_dict"]


def assert_same_weights(first, second):
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key


def test_training_writes_model_logs_and_samples(tmp_path, images):
    run(tmp_path, images, "dcgan")
    out, live = tmp_path / "out", tmp_path / "live"
    assert {path.name for path in out.iterdir()} == {"model.pt", "samples", "samples.png"}
    assert (live / "plots" / "metrics" / "train" / "discriminator.tsv").read_text().count("\n") >= 4
    assert sorted(path.name for path in (out / "samples").iterdir()) == ["epoch_001.png", "epoch_002.png"]
    assert load_generator(out, "cpu").draw(2, seed=0).shape == (2, 1, 28, 28)
    assert not (tmp_path / "work").exists()


def test_same_params_write_the_same_bytes_and_return_the_timing_apart(tmp_path, images):
    # DVC hashes the outputs: a timing inside them would give identical runs new hashes downstream.
    for run_dir in ("a", "b"):
        timing = train("ae", tiny_config("ae", batch_size=16), images, 1, CONFIG, tmp_path / run_dir / "out",
                       tmp_path / run_dir / "work", tmp_path / run_dir / "live")
        assert set(timing) == {"train_seconds", "images_per_second"}
    files = sorted(path.relative_to(tmp_path / "a") for path in (tmp_path / "a").rglob("*") if path.is_file())
    assert len(files) >= 5
    assert all((tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes() for file in files)


def test_same_params_give_the_same_weights(tmp_path, images):
    assert_same_weights(run(tmp_path / "a", images), run(tmp_path / "b", images))


def test_different_seeds_give_different_weights(tmp_path, images):
    first = run(tmp_path / "a", images, "ae")
    config = tiny_config("ae", batch_size=16)
    seeded = TrainConfig(device="cpu", log_every=3, sample_count=4, seed=1)
    train("ae", config, images, 2, seeded, tmp_path / "b", tmp_path / "bw", tmp_path / "bl")
    second = read_checkpoint(tmp_path / "b")["state_dict"]
    assert not all(torch.equal(first[key], second[key]) for key in first)


def interrupt_after(monkeypatch, name, steps, exception):
    """Make `name`'s train_step raise (or return NaN losses) once it has run `steps` times."""
    original = model_class(name).train_step
    calls = {"count": 0}

    def step(self, images, labels, optimizers):
        calls["count"] += 1
        if calls["count"] > steps:
            if exception is None:
                return {"loss": torch.tensor(float("nan"))}
            raise exception
        return original(self, images, labels, optimizers)

    monkeypatch.setattr(model_class(name), "train_step", step)


@pytest.mark.parametrize("name", ["vae", "aae"])
def test_resumed_run_matches_an_uninterrupted_one(tmp_path, images, monkeypatch, name):
    uninterrupted = run(tmp_path / "full", images, name, epochs=3)
    with monkeypatch.context() as patch:
        interrupt_after(patch, name, steps=8, exception=KeyboardInterrupt)  # in epoch 2 of 3
        with pytest.raises(KeyboardInterrupt):
            run(tmp_path / "killed", images, name, epochs=3)
    assert read_checkpoint(tmp_path / "killed" / "work" / RESUME_NAME)["training"]["epoch"] == 1
    assert_same_weights(run(tmp_path / "killed", images, name, epochs=3), uninterrupted)


def test_changed_params_start_afresh_instead_of_resuming(tmp_path, images, monkeypatch, capsys):
    with monkeypatch.context() as patch:
        interrupt_after(patch, "ae", steps=8, exception=KeyboardInterrupt)
        with pytest.raises(KeyboardInterrupt):
            run(tmp_path, images, "ae", epochs=3)
    run(tmp_path, images, "ae", epochs=3, lr=1e-4)
    assert "starting afresh" in capsys.readouterr().out


def test_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, images, monkeypatch):
    interrupt_after(monkeypatch, "ae", steps=7, exception=None)  # NaN from step 8, in epoch 2
    with pytest.raises(GlyphgenError, match=r"loss 'loss' is nan .*last good checkpoint is kept in"):
        run(tmp_path, images, "ae", epochs=3)
    kept = read_checkpoint(tmp_path / "work" / RESUME_NAME)
    assert kept["training"]["epoch"] == 1
    assert all(torch.isfinite(value).all() for value in kept["state_dict"].values())
    assert not (tmp_path / "out").exists()


def test_bad_train_params_name_the_key():
    with pytest.raises(GlyphgenError, match=r"params.yaml:train: unknown key 'log_evry'"):
        parse_config(TrainConfig, {"log_evry": 5}, "params.yaml:train")
    with pytest.raises(GlyphgenError, match=r"params.yaml:train: log_every: expected a positive integer"):
        parse_config(TrainConfig, {"log_every": 0}, "params.yaml:train")


def write_stage_inputs(root: Path, images, **model_section) -> None:
    save_image_set(root / "data" / "processed" / "kmnist" / "train.npz", images)
    section = {"preset": "default", "epochs": 1, "batch_size": 32, **TINY_OVERRIDES["gan"], **model_section}
    params = {"train": {"device": "cpu", "log_every": 2, "sample_count": 4}, "models": {"gan": {"kmnist": section}}}
    (root / "params.yaml").write_text(yaml.safe_dump(params))


def run_stage(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "stages" / "train.py"), "--dataset", "kmnist", "--model", "gan"],
        cwd=root, capture_output=True, text=True, env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
    )


def test_train_stage_end_to_end(tmp_path, images):
    write_stage_inputs(tmp_path, images, train_images=64)
    result = run_stage(tmp_path)
    assert result.returncode == 0, result.stderr
    model = load_generator(tmp_path / "models" / "kmnist" / "gan", "cpu")
    assert model.config.hidden == (32,) and model.image_size == 28
    assert (tmp_path / "metrics" / "kmnist" / "training" / "gan" / "metrics.json").is_file()
    timing = json.loads((tmp_path / "timings" / "train@kmnist-gan.json").read_text())
    assert set(timing) == {"stage", "train_seconds", "images_per_second"} and timing["stage"] == "train@kmnist-gan"


def test_train_stage_rejects_bad_params_in_one_line(tmp_path, images):
    write_stage_inputs(tmp_path, images, hiden=64)
    result = run_stage(tmp_path)
    assert result.returncode == 1
    error = result.stderr.strip()
    assert error.startswith("error: params.yaml:models.gan.kmnist: unknown key 'hiden' (expected one of: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "models").exists()
