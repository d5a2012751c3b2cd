"""The metric sanity check on every data set: real test images degraded in known ways at three severities
(src/glyphgen/evaluation/sanity.py), each headline metric checked to worsen at every step. Writes
benchmarks/metric_sanity.md with the command, date and machine; the metric_sanity stage checks the same for the
report.

Reads data/processed/<dataset>/ and models/<dataset>/judges/ (run `dvc repro metric_sanity` or make repro first).
Usage: PYTHONPATH=src python benchmarks/metric_sanity.py [--output benchmarks/metric_sanity.md]
"""

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from glyphgen.evaluation.sanity import DEGRADATIONS, REAL, SEVERITIES, check, degraded_scores
from glyphgen.evaluation.scorecard import EvaluateConfig, Panel, Splits
from glyphgen.params import get_section, load_judge_names, load_params, load_pipeline, parse_config
from glyphgen.timings import machine

REPO = Path(__file__).resolve().parents[1]


def dataset_section(dataset: str, rows: dict, passes: dict, seconds: float) -> str:
    order = [REAL] + [f"{name}@{severity}" for name in DEGRADATIONS for severity in SEVERITIES]
    values = pd.DataFrame(rows).T.loc[order]
    verdicts = pd.DataFrame(passes).T.map(lambda ok: "✓" if ok else "✗")
    verdicts["may rank"] = ["yes" if all(by_degradation.values()) else "no" for by_degradation in passes.values()]
    return (f"## {dataset} ({seconds:.0f} s)\n\nPasses (metric x degradation):\n\n{verdicts.to_markdown()}\n\n"
            f"Values (lower is better for every metric):\n\n{values.to_markdown(floatfmt='.4g')}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(REPO / "benchmarks" / "metric_sanity.md"))
    args = parser.parse_args()
    params = load_params(REPO / "params.yaml")
    config = parse_config(EvaluateConfig, get_section(params, "evaluate"), "params.yaml:evaluate")
    torch.set_grad_enabled(False)
    sections = []
    for dataset in load_pipeline(params).datasets:
        started = time.perf_counter()
        splits = Splits.load(REPO / "data" / "processed" / dataset)
        panel = Panel.load(REPO / "models" / dataset / "judges", load_judge_names(params), splits.image_size)
        rows = degraded_scores(panel, splits, config)
        sections.append(dataset_section(dataset, rows, check(rows), time.perf_counter() - started))
        print(sections[-1])
    header = (f"# Metric sanity\n\nCommand: `PYTHONPATH=src python benchmarks/metric_sanity.py`, "
              f"{time.strftime('%Y-%m-%d')}, on {machine()}.\n\n✓: the metric worsens at every severity and rates "
              "every degraded set below the real row; only metrics with ✓ everywhere may rank the models.\n\n")
    Path(args.output).write_text(header + "\n".join(sections), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
