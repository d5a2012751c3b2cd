"""Train one generator on one data set: params `train` (the shared loop) and `models.<model>`.

    python stages/train.py --dataset kmnist --model vae

Reads data/processed/<dataset>/train.npz; writes models/<dataset>/<model>/ (model.pt, samples/), its dvclive
logs to metrics/<dataset>/training/<model>/; the loop's own seconds go to timings/ with the stage's (glyphgen.stage).
An interrupted run resumes from <train.work_dir>/<dataset>/<model>/ when re-run with the same params.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from glyphgen.io import load_image_set
from glyphgen.models import MODEL_NAMES
from glyphgen.params import get_section, load_params, parse_config
from glyphgen.stage import run_stage
from glyphgen.training.loop import TrainConfig, train
from glyphgen.training.settings import DATASETS, run_settings


def main() -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, choices=DATASETS)
    parser.add_argument("--model", required=True, choices=MODEL_NAMES)
    args = parser.parse_args()

    params = load_params()
    config = parse_config(TrainConfig, get_section(params, "train"), "params.yaml:train")
    model_config, budget = run_settings(params, args.model, args.dataset)

    train_set = load_image_set(Path("data/processed") / args.dataset / "train.npz")
    if 0 < budget.train_images < len(train_set):  # a seeded random subset, for a shorter epoch
        chosen = np.random.default_rng(config.seed).permutation(len(train_set))[:budget.train_images]
        train_set = train_set.subset(chosen)
    out_dir = Path("models") / args.dataset / args.model
    live_dir = Path("metrics") / args.dataset / "training" / args.model
    work_dir = Path(config.work_dir) / args.dataset / args.model
    timing = train(args.model, model_config, train_set, budget.epochs, config, out_dir, work_dir, live_dir)
    print(f"wrote {out_dir} and {live_dir} in {timing['train_seconds']:.0f} s")
    return timing


if __name__ == "__main__":
    run_stage(main)
