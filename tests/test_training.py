import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from glyphgen.errors import GlyphgenError
from glyphgen.io import save_image_set
from glyphgen.models import MODEL_NAMES, model_class
from glyphgen.params import parse_config
from glyphgen import io
from glyphgen.training import checkpoint
from glyphgen.io import publish
from glyphgen.training.checkpoint import RESUME_NAME, code_version, load_generator, read_checkpoint
from glyphgen.training.loop import TrainConfig, train
from tiny_models import kmnist_slice, tiny_config, tiny_section

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


def kill_in_epoch_two(monkeypatch, tmp_path, images, name, **overrides):
    """A 2-epoch run interrupted in its second epoch, leaving the checkpoint of epoch 1 in tmp_path/work."""
    with monkeypatch.context() as patch:
        interrupt_after(patch, name, steps=8, exception=KeyboardInterrupt)
        with pytest.raises(KeyboardInterrupt):
            run(tmp_path, images, name, epochs=2, **overrides)
    assert read_checkpoint(tmp_path / "work" / RESUME_NAME)["training"]["epoch"] == 1


# State beyond the networks' weights that a resumed run must restore too, or it drifts from an uninterrupted one.
STATE_BESIDES_WEIGHTS = {"gan": "average_generator.", "dcgan": "average_generator.",  # the weight average
                         "ae": "codes.", "conv_ae": "codes."}  # the code distribution that samples are drawn from


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_resumed_run_matches_an_uninterrupted_one(tmp_path, images, monkeypatch, name):
    uninterrupted = run(tmp_path / "full", images, name, epochs=2)
    if name in STATE_BESIDES_WEIGHTS:
        assert any(key.startswith(STATE_BESIDES_WEIGHTS[name]) for key in uninterrupted)
    kill_in_epoch_two(monkeypatch, tmp_path / "killed", images, name)
    assert_same_weights(run(tmp_path / "killed", images, name, epochs=2), uninterrupted)


def test_a_run_killed_while_dvclive_was_writing_resumes_to_the_same_logs(tmp_path, images, monkeypatch):
    uninterrupted = run(tmp_path / "full", images, "gan", epochs=2)
    kill_in_epoch_two(monkeypatch, tmp_path / "killed", images, "gan")
    live = tmp_path / "killed" / "work" / "live"
    (live / "metrics.json").write_text('{"step": 9, "train": {"lo')  # the summary, cut short
    with open(live / "plots" / "metrics" / "train" / "loss.tsv", "a", encoding="utf-8") as history:
        history.write("1")  # the first digits of a row for step 1x
    assert_same_weights(run(tmp_path / "killed", images, "gan", epochs=2), uninterrupted)
    for log in ("metrics.json", "plots/metrics/train/loss.tsv", "plots/metrics/train/generator.tsv"):
        assert (tmp_path / "killed" / "live" / log).read_text() == (tmp_path / "full" / "live" / log).read_text()


def test_changed_params_start_afresh_instead_of_resuming(tmp_path, images, monkeypatch, capsys):
    kill_in_epoch_two(monkeypatch, tmp_path, images, "ae")
    run(tmp_path, images, "ae", epochs=2, lr=1e-4)
    assert "changed since the interrupted run (config); starting afresh" in capsys.readouterr().out


def test_changed_training_data_starts_afresh(tmp_path, images, monkeypatch, capsys):
    # Same count, other images: what a new split.seed gives. The image count alone would resume on the old data.
    kill_in_epoch_two(monkeypatch, tmp_path / "killed", images, "ae")
    other_images = images.subset(np.arange(len(images))[::-1].copy())
    other_images.images = np.ascontiguousarray(np.flip(other_images.images, axis=2))
    resumed = run(tmp_path / "killed", other_images, "ae", epochs=2)
    assert "changed since the interrupted run (data); starting afresh" in capsys.readouterr().out
    assert_same_weights(resumed, run(tmp_path / "fresh", other_images, "ae", epochs=2))


def test_changed_model_code_starts_afresh(tmp_path, images, monkeypatch, capsys):
    kill_in_epoch_two(monkeypatch, tmp_path, images, "ae")
    monkeypatch.setattr(checkpoint, "code_version", lambda name: "edited")
    run(tmp_path, images, "ae", epochs=2)
    assert "changed since the interrupted run (code); starting afresh" in capsys.readouterr().out


def test_code_version_covers_the_models_own_file_the_shared_code_and_the_loop(monkeypatch):
    unedited, read_bytes = code_version("ae"), Path.read_bytes
    for edited, changes in [("models/ae.py", True), ("models/shared/blocks.py", True), ("training/loop.py", True),
                            ("models/gan.py", False)]:
        with monkeypatch.context() as patch:
            patch.setattr(Path, "read_bytes", lambda path: read_bytes(path) + b"#" * path.as_posix().endswith(edited))
            assert (code_version("ae") != unedited) == changes, edited


def test_a_corrupt_resume_checkpoint_is_discarded_with_a_warning(tmp_path, images, monkeypatch, capsys):
    kill_in_epoch_two(monkeypatch, tmp_path / "killed", images, "ae")
    resume_file = tmp_path / "killed" / "work" / RESUME_NAME
    resume_file.write_bytes(resume_file.read_bytes()[:1000])  # as a full disk leaves it
    resumed = run(tmp_path / "killed", images, "ae", epochs=2)
    assert re.search(rf"warning: {re.escape(str(resume_file))}: not a readable glyphgen checkpoint \(\w+\); "
                     rf"discarding it and starting afresh$", capsys.readouterr().err, re.MULTILINE)
    assert_same_weights(resumed, run(tmp_path / "fresh", images, "ae", epochs=2))


def test_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, images, monkeypatch):
    interrupt_after(monkeypatch, "ae", steps=7, exception=None)  # NaN from step 8, in epoch 2
    kept_in = tmp_path / "work" / RESUME_NAME
    with pytest.raises(GlyphgenError, match=rf"loss 'loss' is nan .*; the checkpoint of epoch 1 is kept in {kept_in}"):
        run(tmp_path, images, "ae", epochs=3)
    kept = read_checkpoint(kept_in)
    assert kept["training"]["epoch"] == 1
    assert all(torch.isfinite(value).all() for value in kept["state_dict"].values())
    assert not (tmp_path / "out").exists()


def test_nan_loss_in_the_first_epoch_says_that_nothing_is_kept(tmp_path, images, monkeypatch):
    interrupt_after(monkeypatch, "ae", steps=2, exception=None)
    with pytest.raises(GlyphgenError, match=r"\(epoch 1\).*; no epoch had finished, so no checkpoint is kept") as error:
        run(tmp_path, images, "ae", epochs=3)
    assert RESUME_NAME not in str(error.value) and not (tmp_path / "work" / RESUME_NAME).exists()


def fail_rename(monkeypatch, source: Path, target: Path):
    """os.replace(source, target) fails, as a rename into a folder that is not writable does."""
    real_replace = os.replace

    def replace(from_path, to_path):
        if (Path(from_path), Path(to_path)) == (source, target):
            raise PermissionError(13, "Permission denied", str(to_path))
        real_replace(from_path, to_path)

    monkeypatch.setattr(io.os, "replace", replace)


def test_a_failing_final_move_keeps_the_old_output_and_the_finished_run(tmp_path, images, monkeypatch):
    first = run(tmp_path, images, "ae", epochs=2)
    old_output = {path.relative_to(tmp_path): path.read_bytes() for path in (tmp_path / "out").rglob("*")
                  if path.is_file()}
    with monkeypatch.context() as patch:
        fail_rename(patch, tmp_path / "work" / "live", tmp_path / "live")  # the second move: undo the first
        with pytest.raises(GlyphgenError, match=rf"^{tmp_path / 'live'}: cannot move the finished run there "
                                                rf"\(Permission denied\); it is kept in {tmp_path / 'work'}"):
            run(tmp_path, images, "ae", epochs=2, lr=1e-4)
    assert {path.relative_to(tmp_path): path.read_bytes() for path in (tmp_path / "out").rglob("*")
            if path.is_file()} == old_output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["live", "out", "work"]  # nothing set aside is left
    # The next run publishes what was trained, without a single training step.
    monkeypatch.setattr(model_class("ae"), "train_step", lambda *args: pytest.fail("trained again"))
    published = run(tmp_path, images, "ae", epochs=2, lr=1e-4)
    assert not all(torch.equal(published[key], first[key]) for key in first)
    assert not (tmp_path / "work").exists()


def test_publish_replaces_old_outputs_only_once_the_new_ones_are_in(tmp_path):
    for folder in ("new_a", "new_b", "old_a"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "file").write_text(folder)
    publish([(tmp_path / "new_a", tmp_path / "old_a"), (tmp_path / "new_b", tmp_path / "deep" / "b")])
    assert (tmp_path / "old_a" / "file").read_text() == "new_a" and (tmp_path / "deep/b/file").read_text() == "new_b"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["deep", "old_a"]


def test_bad_train_params_name_the_key():
    with pytest.raises(GlyphgenError, match=r"params.yaml:train: unknown key 'log_evry'"):
        parse_config(TrainConfig, {"log_evry": 5}, "params.yaml:train")
    with pytest.raises(GlyphgenError, match=r"params.yaml:train: log_every: expected a value > 0, got 0"):
        parse_config(TrainConfig, {"log_every": 0}, "params.yaml:train")


def write_stage_inputs(root: Path, images, model: str = "gan", sections: dict | None = None, **model_section) -> None:
    save_image_set(root / "data" / "processed" / "kmnist" / "train.npz", images)
    section = {"epochs": 1, "batch_size": 32, **tiny_section(model), **model_section}
    params = {"train": {"device": "cpu", "log_every": 2, "sample_count": 4}, "models": {model: {"kmnist": section}},
              **(sections or {})}
    (root / "params.yaml").write_text(yaml.safe_dump(params))


def run_stage(root: Path, model: str = "gan") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "stages" / "train.py"), "--dataset", "kmnist", "--model", model],
        cwd=root, capture_output=True, text=True,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin", "DVC_STAGE": "train@kmnist-gan"},  # as DVC sets it
    )


@pytest.mark.slow  # runs stages/train.py as its own process
def test_train_stage_end_to_end(tmp_path, images):
    write_stage_inputs(tmp_path, images, train_images=64)
    result = run_stage(tmp_path)
    assert result.returncode == 0, result.stderr
    model = load_generator(tmp_path / "models" / "kmnist" / "gan", "cpu")
    assert model.config.hidden == (32,) and model.image_size == 28
    assert (tmp_path / "metrics" / "kmnist" / "training" / "gan" / "metrics.json").is_file()
    timing = json.loads((tmp_path / "timings" / "train@kmnist-gan.json").read_text())
    assert timing["stage"] == "train@kmnist-gan" and timing["seconds"] > 0
    assert set(timing["figures"]) == {"train_seconds", "images_per_second"}


def resized(images, side: int):
    """The same images at another side (nearest neighbour), as convert_glyphs.image_size would make them."""
    index = np.arange(side) * images.image_size // side
    return dataclasses.replace(images, images=np.ascontiguousarray(images.images[:, index][:, :, index]))


@pytest.mark.slow  # runs stages/train.py as its own process
@pytest.mark.parametrize("model, change, message", [
    ("gan", {"hiden": 64}, "params.yaml:models.gan.kmnist: unknown key 'hiden' (expected one of: "),
    ("gan", {"latent_dim": 0}, "params.yaml:models.gan.kmnist: latent_dim: expected a value > 0, got 0"),
    ("gan", {"sections": {"trian": {"seed": 1}}}, "params.yaml: unknown section 'trian' (expected one of: "),
    # a 30 px side is not divisible by 4: conv_ae used to die in its first step with a shape mismatch
    ("conv_ae", {"image_size": 30}, "conv_ae: 2 stride-2 convs (channels [4, 8]) need an image side divisible by 4"),
])
def test_train_stage_rejects_bad_input_in_one_line(tmp_path, images, model, change, message):
    change = dict(change)
    train_images = resized(images, change.pop("image_size")) if "image_size" in change else images
    write_stage_inputs(tmp_path, train_images, model, **change)
    result = run_stage(tmp_path, model)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {message}") and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "models").exists() and not (tmp_path / "runs").exists()


def test_the_loop_hands_each_read_back_to_the_model(tmp_path, images, monkeypatch):
    # The GANs' balance decides from these read-backs: every log_every (3) steps and each epoch's last (6).
    seen = []
    monkeypatch.setattr(model_class("dcgan"), "observe_losses", lambda self, losses: seen.append(losses))
    run(tmp_path, images, "dcgan", epochs=2)
    assert len(seen) == 4 and {"d_accuracy_real", "d_accuracy_fake", "generator_steps"} <= set(seen[0])
    assert all(isinstance(value, float) for value in seen[0].values())
