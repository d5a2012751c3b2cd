"""Train one generator on one data set: params `train` (the shared loop) and `models.<model>`.

    python stages/train.py --dataset kmnist --model vae

Reads data/processed/<dataset>/train.npz; writes models/<dataset>/<model>/ (model.pt, live/, samples/).
An interrupted run resumes from <train.work_dir>/<dataset>/<model>/ when re-run with the same params.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glyphgen.errors import GlyphgenError
from glyphgen.io import load_image_set
from glyphgen.models import MODELS
from glyphgen.params import get_section, load_params, parse_config
from glyphgen.stage import run_stage
from glyphgen.training.loop import TrainConfig, train

DATASETS = ("kmnist", "glyphs")


@dataclass
class Budget:
    epochs: dict[str, int]  # per data set
    train_images: dict[str, int] = field(default_factory=dict)  # per data set; 0 or absent = all


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, choices=DATASETS)
    parser.add_argument("--model", required=True, choices=sorted(MODELS))
    args = parser.parse_args()

    params = load_params()
    config = parse_config(TrainConfig, get_section(params, "train"), "params.yaml:train")
    where = f"params.yaml:models.{args.model}"
    section = dict(get_section(params, f"models.{args.model}") or {})
    budget = parse_config(Budget, {key: section.pop(key) for key in ("epochs", "train_images") if key in section},
                          where)
    epochs, train_images = budget.epochs.get(args.dataset, 0), budget.train_images.get(args.dataset, 0)
    if epochs < 1 or train_images < 0:
        raise GlyphgenError(f"{where}.epochs.{args.dataset}: expected a positive number of epochs "
                            f"(and train_images >= 0), got {epochs} and {train_images}")
    model_config = MODELS[args.model].config_from_params(section.pop("preset", "default"), section, where)

    train_set = load_image_set(Path("data/processed") / args.dataset / "train.npz")
    if 0 < train_images < len(train_set):  # a seeded random subset, for a shorter epoch
        train_set = train_set.subset(np.random.default_rng(config.seed).permutation(len(train_set))[:train_images])
    out_dir = Path("models") / args.dataset / args.model
    work_dir = Path(config.work_dir) / args.dataset / args.model
    train(args.model, model_config, train_set, epochs, config, out_dir, work_dir)
    print(f"wrote {out_dir}")


if __name__ == "__main__":
    run_stage(main)
