"""The metrics' own test for one data set: real test images degraded in known ways (evaluation/sanity.py), each
headline metric checked to worsen with severity; the report orders the leaderboard only by metrics that pass.

Usage: python stages/metric_sanity.py <dataset>
Writes metrics/<dataset>/sanity.json: {"scores": {row: {metric: value}}, "passes": {metric: {degradation: bool}}}.
"""

import sys

import torch

from glyphgen.evaluation.sanity import check, degraded_scores
from glyphgen.evaluation.scorecard import EvaluateConfig, Panel, Splits
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

    rows = degraded_scores(panel, splits, config)
    passes = check(rows)
    write_json(f"metrics/{dataset}/sanity.json", {"scores": rows, "passes": passes})
    for metric, by_degradation in passes.items():
        failed = [name for name, ok in by_degradation.items() if not ok]
        print(f"{dataset} {metric}: " + (f"fails on {', '.join(failed)}" if failed else "passes every degradation"))


if __name__ == "__main__":
    run_stage(main)
