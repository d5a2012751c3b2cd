"""Data-parallel training under torchrun, on the CPU with gloo and two processes: `python stages/train.py` starts
torchrun itself when `train.distributed` asks for it; the run matches a single process at the same global batch,
writes one checkpoint, and a killed run resumes to the weights of an uninterrupted one."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from glyphgen.errors import GlyphgenError
from glyphgen.training.checkpoint import read_checkpoint
from glyphgen.training.distributed import DistributedConfig, torchrun_command
from test_training import REPO, assert_same_weights, write_stage_inputs
from tiny_models import kmnist_slice

# The losses are means over the global batch either way; two ranks sum their halves' gradients in another order
# than one process sums the whole batch's, so the curves agree to float32 rounding, grown over the steps.
LOSS_TOLERANCE = 1e-5  # measured: 1.8e-7 (8 logged steps, ae, 2 ranks of 16 images vs 1 of 32)


def train_stage(root: Path, model: str, processes: int, **section) -> subprocess.Popen:
    write_stage_inputs(root, kmnist_slice(256), model, train_images=256, **section,
                       sections={"train": {"device": "cpu", "log_every": 2, "sample_count": 4, "threads": 1,
                                           "distributed": {"nproc_per_node": processes, "nnodes": 1}}})
    env = {"PYTHONPATH": str(REPO / "src"), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
           "DVC_STAGE": f"train@kmnist-{model}", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, str(REPO / "stages" / "train.py"), "--dataset", "kmnist", "--model",
                             model], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finished(process: subprocess.Popen) -> str:
    output = process.communicate(timeout=300)[0]
    assert process.returncode == 0, output[-4000:]
    return output


def losses(root: Path, model: str) -> pd.DataFrame:
    return pd.read_csv(root / f"metrics/kmnist/training/{model}/plots/metrics/train/loss.tsv", sep="\t")


@pytest.mark.slow  # torchrun and its ranks as processes of their own
def test_two_ranks_train_like_one_process_at_the_same_global_batch(tmp_path):
    finished(train_stage(tmp_path / "one", "ae", 1, epochs=2, batch_size=32))
    output = finished(train_stage(tmp_path / "two", "ae", 2, epochs=2, batch_size=32))
    single, ranks = losses(tmp_path / "one", "ae"), losses(tmp_path / "two", "ae")
    assert list(ranks["step"]) == list(single["step"]) == list(range(2, 17, 2))  # 8 steps an epoch, logged once
    assert ranks["loss"].to_numpy() == pytest.approx(single["loss"].to_numpy(), rel=LOSS_TOLERANCE)
    two = tmp_path / "two"
    assert [path.relative_to(two).as_posix() for path in two.rglob("*.pt")] == ["models/kmnist/ae/model.pt"]
    assert output.count("wrote models/kmnist/ae") == 1  # rank 0 alone
    assert [path.name for path in (two / "timings").iterdir()] == ["train@kmnist-ae.json"]
    assert read_checkpoint(two / "models/kmnist/ae")["state_dict"].keys() == \
        read_checkpoint(tmp_path / "one" / "models/kmnist/ae")["state_dict"].keys()


@pytest.mark.slow
def test_a_killed_two_rank_gan_resumes_to_the_weights_of_an_uninterrupted_run(tmp_path):
    # The GAN: two optimisers a step and the generator's weight average, all of it in the checkpoint.
    run = dict(epochs=8, batch_size=16)
    finished(train_stage(tmp_path / "whole", "gan", 2, **run))
    killed = train_stage(tmp_path / "killed", "gan", 2, **run)
    resume_file = tmp_path / "killed/runs/kmnist/gan/resume.pt"
    while not resume_file.exists() and killed.poll() is None:
        time.sleep(0.02)
    # torchrun starts each rank in a session of its own, so each process of the run is killed by its id.
    for process in [psutil.Process(killed.pid), *psutil.Process(killed.pid).children(recursive=True)]:
        process.kill()
    killed.communicate()
    assert not (tmp_path / "killed/models").exists(), "the run finished before it could be killed"
    output = finished(train_stage(tmp_path / "killed", "gan", 2, **run))
    assert "resuming runs/kmnist/gan from epoch" in output
    whole, resumed = (read_checkpoint(tmp_path / name / "models/kmnist/gan")["state_dict"] for name in ("whole", "killed"))
    assert any(key.startswith("average_generator.") for key in whole)
    assert_same_weights(whole, resumed)


def test_more_than_one_machine_needs_node_0s_address_and_the_node_rank(monkeypatch):
    two_machines = DistributedConfig(nproc_per_node=4, nnodes=2)
    monkeypatch.setenv("GLYPHGEN_RDZV_ENDPOINT", "head:29400")
    monkeypatch.delenv("GLYPHGEN_NODE_RANK", raising=False)
    with pytest.raises(GlyphgenError, match="nnodes is 2: set GLYPHGEN_RDZV_ENDPOINT to host:port on node 0"):
        torchrun_command(two_machines, ["stages/train.py"])
    monkeypatch.setenv("GLYPHGEN_NODE_RANK", "1")
    command = torchrun_command(two_machines, ["stages/train.py"])
    assert {"--node-rank=1", "--master-addr=head", "--master-port=29400"} <= set(command)
    assert command[-1] == "stages/train.py"
    assert "--standalone" in torchrun_command(DistributedConfig(nproc_per_node=2), ["stages/train.py"])
