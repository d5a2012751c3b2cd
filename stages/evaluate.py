"""Score one trained generator against every judge of its data set; write metrics/<dataset>/<model>.json.

Usage: python stages/evaluate.py <dataset> <model>
"""

import sys

import torch

from glyphgen.evaluation.scorecard import ReferenceStats, score_generator, scoring_inputs
from glyphgen.io import write_json
from glyphgen.params import load_params
from glyphgen.stage import run_stage
from glyphgen.training.checkpoint import load_generator
from glyphgen.training.device import pick_device


def main() -> None:
    dataset, model_name = sys.argv[1], sys.argv[2]
    torch.set_grad_enabled(False)
    config, splits, panel = scoring_inputs(load_params(), dataset)
    reference = ReferenceStats.load(f"models/{dataset}/reference_stats.npz", next(iter(panel.judges)))
    generator = load_generator(f"models/{dataset}/{model_name}", pick_device("auto"), splits.image_size)

    scores = score_generator(generator, panel, splits, reference, config)
    write_json(f"metrics/{dataset}/{model_name}.json", scores)
    print(f"{dataset}/{model_name}: {scores}")


if __name__ == "__main__":
    run_stage(main)
