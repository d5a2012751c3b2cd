"""The metrics' own test for one data set: real test images degraded in known ways (evaluation/sanity.py), each
headline metric checked to worsen with severity; the report orders the leaderboard only by metrics that pass.

Usage: python stages/metric_sanity.py <dataset>
Writes metrics/<dataset>/sanity.json: {"scores": {row: {metric: value}}, "passes": {metric: {degradation: bool}}}.
"""

import sys

import torch

from glyphgen.evaluation.sanity import check, degraded_scores
from glyphgen.evaluation.scorecard import scoring_inputs
from glyphgen.io import write_json
from glyphgen.params import load_params
from glyphgen.stage import run_stage


def main() -> None:
    dataset = sys.argv[1]
    torch.set_grad_enabled(False)
    config, splits, panel = scoring_inputs(load_params(), dataset)

    rows = degraded_scores(panel, splits, config)
    passes = check(rows)
    write_json(f"metrics/{dataset}/sanity.json", {"scores": rows, "passes": passes})
    for metric, by_degradation in passes.items():
        failed = [name for name, ok in by_degradation.items() if not ok]
        print(f"{dataset} {metric}: " + (f"fails on {', '.join(failed)}" if failed else "passes every degradation"))


if __name__ == "__main__":
    run_stage(main)
