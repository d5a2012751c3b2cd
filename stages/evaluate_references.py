"""The floor and ceiling rows for one data set: real test images and per-pixel noise, scored like a model.

Usage: python stages/evaluate_references.py <dataset>
Writes metrics/<dataset>/real_test.json (ceiling), metrics/<dataset>/pixel_noise.json (floor), and
models/<dataset>/reference_stats.npz: what every model of the data set is compared with (see ReferenceStats).
"""

import sys

import torch

from glyphgen.evaluation.scorecard import EvaluateConfig, Panel, ReferenceStats, Splits, score_references
from glyphgen.io import write_json
from glyphgen.params import get_section, load_judge_names, load_params, parse_config
from glyphgen.stage import run_stage


def main() -> None:
    dataset = sys.argv[1]
    params = load_params()
    config = parse_config(EvaluateConfig, get_section(params, "evaluate"), "params.yaml:evaluate")
    torch.set_grad_enabled(False)
    splits = Splits.load(f"data/processed/{dataset}")
    panel = Panel.load(f"models/{dataset}/judges", load_judge_names(params), splits.image_size)

    reference = ReferenceStats.measure(panel, splits, config)
    reference.save(f"models/{dataset}/reference_stats.npz")
    for name, scores in score_references(panel, splits, reference, config).items():
        write_json(f"metrics/{dataset}/{name}.json", scores)
        print(f"{dataset}/{name}: {scores}")


if __name__ == "__main__":
    run_stage(main)
