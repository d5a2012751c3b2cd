"""Score one trained generator against every judge of its data set; write metrics/<dataset>/<model>.json.

Usage: python stages/evaluate.py <dataset> <model>
"""

import sys

import torch

from glyphgen.evaluation.scorecard import EvaluateConfig, Panel, ReferenceStats, Splits, score_generator
from glyphgen.io import write_json
from glyphgen.params import get_section, load_judge_names, load_params, parse_config
from glyphgen.stage import run_stage
from glyphgen.training.checkpoint import load_generator
from glyphgen.training.device import pick_device


def main() -> None:
    dataset, model_name = sys.argv[1], sys.argv[2]
    params = load_params()
    config = parse_config(EvaluateConfig, get_section(params, "evaluate"), "params.yaml:evaluate")
    names = load_judge_names(params)
    torch.set_grad_enabled(False)
    splits = Splits.load(f"data/processed/{dataset}")
    panel = Panel.load(f"models/{dataset}/judges", names, splits.image_size)
    reference = ReferenceStats.load(f"models/{dataset}/reference_stats.npz", names)
    generator = load_generator(f"models/{dataset}/{model_name}", pick_device("auto"), splits.image_size)

    scores = score_generator(generator, panel, splits, reference, config)
    write_json(f"metrics/{dataset}/{model_name}.json", scores)
    print(f"{dataset}/{model_name}: {scores}")


if __name__ == "__main__":
    run_stage(main)
