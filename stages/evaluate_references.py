"""The floor and ceiling rows for one data set: real test images and per-pixel noise, scored like a model.

Usage: python stages/evaluate_references.py <dataset>
Writes metrics/<dataset>/real_test.json (ceiling), metrics/<dataset>/pixel_noise.json (floor), and
models/<dataset>/reference_stats.npz: what every model of the data set is compared with (see ReferenceStats).
"""

import sys

import torch

from glyphgen.evaluation.scorecard import ReferenceStats, score_references, scoring_inputs
from glyphgen.io import write_json
from glyphgen.params import load_params
from glyphgen.stage import run_stage


def main() -> None:
    dataset = sys.argv[1]
    torch.set_grad_enabled(False)
    config, splits, panel = scoring_inputs(load_params(), dataset)

    reference = ReferenceStats.measure(panel, splits, config)
    reference.save(f"models/{dataset}/reference_stats.npz")
    for name, scores in score_references(panel, splits, reference, config).items():
        write_json(f"metrics/{dataset}/{name}.json", scores)
        print(f"{dataset}/{name}: {scores}")


if __name__ == "__main__":
    run_stage(main)
