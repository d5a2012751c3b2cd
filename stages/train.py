"""Train one generator on one data set: params `train` (the shared loop) and `models.<model>`.

    python stages/train.py --dataset kmnist --model vae

Reads data/processed/<dataset>/train.npz; writes models/<dataset>/<model>/ (model.pt, samples/), its dvclive
logs to metrics/<dataset>/training/<model>/; the loop's own seconds go to timings/ with the stage's (glyphgen.stage).
An interrupted run resumes from <train.work_dir>/<dataset>/<model>/ when re-run with the same params.
With `train.distributed` asking for more than one process, the script starts itself again under torchrun
(glyphgen.training.distributed); this first process waits for it and records the stage's time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from glyphgen.errors import GlyphgenError
from glyphgen.io import load_image_set
from glyphgen.models import MODEL_NAMES
from glyphgen.params import get_section, load_params, parse_config
from glyphgen.stage import run_stage
from glyphgen.training.distributed import Rank, finish, torchrun_command
from glyphgen.training.loop import TrainConfig, train
from glyphgen.training.settings import run_settings


def main() -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--model", required=True, choices=MODEL_NAMES)
    args = parser.parse_args()

    params = load_params()
    config = parse_config(TrainConfig, get_section(params, "train"), "params.yaml:train")
    model_config, budget = run_settings(params, args.model, args.dataset)
    if config.distributed.world_size > 1 and "LOCAL_RANK" not in os.environ:
        launched = subprocess.run(torchrun_command(config.distributed, sys.argv))
        if launched.returncode != 0:
            raise GlyphgenError(f"training under torchrun failed (exit {launched.returncode}); the ranks' errors "
                                "are above")
        return {}
    if Rank.from_environment().world_size > 1:
        os.environ.pop("DVC_STAGE", None)  # the first process records the stage's time, not each rank

    train_set = load_image_set(Path("data/processed") / args.dataset / "train.npz")
    if 0 < budget.train_images < len(train_set):  # a seeded random subset, for a shorter epoch
        chosen = np.random.default_rng(config.seed).permutation(len(train_set))[:budget.train_images]
        train_set = train_set.subset(chosen)
    out_dir = Path("models") / args.dataset / args.model
    live_dir = Path("metrics") / args.dataset / "training" / args.model
    work_dir = Path(config.work_dir) / args.dataset / args.model
    timing = train(args.model, model_config, train_set, budget.epochs, config, out_dir, work_dir, live_dir,
                   budget.lr_schedule)
    finish()
    if timing:  # rank 0, or the only process
        print(f"wrote {out_dir} and {live_dir} in {timing['train_seconds']:.0f} s")
    return timing


if __name__ == "__main__":
    run_stage(main)
