"""A real interruption: `stages/train.py` killed with SIGKILL in the middle of an epoch, then `dvc repro`. The
resumed run must end with the bytes an uninterrupted run writes (on CPU)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from glyphgen.io import save_image_set
from glyphgen.training.checkpoint import RESUME_NAME
from pipeline_repo import PipelineRepo
from tiny_models import kmnist_slice, tiny_section

STAGE = "train@kmnist-dcgan"  # the model with the most state besides its weights: BatchNorm, the weight average
IMAGES, BATCH = 320, 16  # 20 steps an epoch


def tsv_rows(path) -> int:
    return max(0, len(path.read_text().splitlines()) - 1) if path.is_file() else 0


@pytest.mark.slow
def test_a_run_killed_mid_epoch_resumes_under_dvc_repro_to_the_bytes_of_an_uninterrupted_run(tmp_path):
    repo = PipelineRepo(tmp_path / "repo")
    section = {"epochs": 2, "train_images": 0, "batch_size": BATCH, **tiny_section("dcgan")}
    repo.set_params({"train.threads": 1, "train.log_every": 1, "train.sample_count": 4,
                     "models.dcgan.kmnist": section})
    save_image_set(repo.path / "data/processed/kmnist/train.npz", kmnist_slice(IMAGES))
    work = repo.path / "runs/kmnist/dcgan"
    losses = work / "live/plots/metrics/train/loss.tsv"

    stage = subprocess.Popen([sys.executable, "stages/train.py", "--dataset", "kmnist", "--model", "dcgan"],
                             cwd=repo.path, env=repo.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    steps_per_epoch = IMAGES // BATCH
    deadline = time.monotonic() + 240
    # After epoch 1's checkpoint, and a few steps into epoch 2.
    while not ((work / RESUME_NAME).is_file() and tsv_rows(losses) > steps_per_epoch + 2):
        assert stage.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
        time.sleep(0.02)
    os.kill(stage.pid, signal.SIGKILL)
    assert stage.wait() == -signal.SIGKILL

    resumed = repo.dvc("repro", "--single-item", STAGE)  # -s: the data above stands in for split@kmnist
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert "resuming runs/kmnist/dcgan from epoch 1" in resumed.stdout
    after_kill = repo.locked_outs(STAGE)
    model_bytes = (repo.path / "models/kmnist/dcgan/model.pt").read_bytes()

    uninterrupted = repo.dvc("repro", "--single-item", "--force", STAGE)
    assert uninterrupted.returncode == 0 and "resuming" not in uninterrupted.stdout, uninterrupted.stderr[-2000:]
    assert (repo.path / "models/kmnist/dcgan/model.pt").read_bytes() == model_bytes  # bitwise the same weights
    assert repo.locked_outs(STAGE) == after_kill  # and the same samples and dvclive logs
    assert not work.exists()
