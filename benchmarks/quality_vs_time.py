"""Sample quality against training time: each model's params.yaml default against its `reference` preset.

    dvc repro train_judges              # the judges and the processed splits this reads
    PYTHONPATH=src python benchmarks/quality_vs_time.py --replot    # only redraw the .md and .png from the CSV
    PYTHONPATH=src python benchmarks/quality_vs_time.py [--models aae gan] [--datasets kmnist]
        [--seconds 30 60 120 240] [--samples 10000] [--threads 0] [--clock wall|cpu] [--judge strided_cnn]

For every model, data set and preset it trains one run from scratch, as the train stage does (same seed,
data on the device, the model's own `train_step`), and stops at each wall-clock checkpoint to score the
model as the evaluate stage would: `finish_training` (the autoencoders' code mixture), then one judge's
(`--judge`, by default params.yaml's first) FID and class entropy on `--samples` samples. Scoring time is not
counted as training time. It prints the table and rewrites benchmarks/quality_vs_time.md and
benchmarks/quality_vs_time.png (FID against seconds, one line per preset) from benchmarks/quality_vs_time.csv,
where each run replaces the rows of the models and data sets it measured, so models can be measured one at a
time (or in parallel processes).
`--clock wall` (the default) counts wall-clock seconds: run it on an otherwise idle machine. On a shared
machine, `--clock cpu --threads 1` counts the CPU seconds of one thread instead, which other processes do
not inflate.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import matplotlib
import pandas as pd
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from glyphgen.evaluation import metrics  # noqa: E402
from glyphgen.evaluation.judges import predict  # noqa: E402
from glyphgen.evaluation.scorecard import EvaluateConfig, Panel, draw_samples  # noqa: E402
from glyphgen.io import atomic_path, load_image_set  # noqa: E402
from glyphgen.models import MODEL_NAMES, model_class  # noqa: E402
from glyphgen.params import load_judge_names, load_params, load_pipeline  # noqa: E402
from glyphgen.training.batches import DeviceImages  # noqa: E402
from glyphgen.training.device import autocast, pick_device, place, seed_everything  # noqa: E402
from glyphgen.training.loop import FINAL_FIT_IMAGES, finish_training  # noqa: E402
from glyphgen.training.settings import run_settings  # noqa: E402

HERE = Path(__file__).parent
RESULTS = HERE / "quality_vs_time.csv"
PIPELINE = load_pipeline(load_params(HERE.parent / "params.yaml"))  # the data sets and the models, in order


def configs(model: str, dataset: str) -> dict[str, object]:
    """What `make repro` trains (params.yaml's section for the run) and the tutorial's recipe."""
    default, _ = run_settings(load_params(), model, dataset)
    reference = model_class(model).config_from_params("reference", {}, f"{model} reference")
    return {"default": default, "reference": reference}


def endless_batches(data: DeviceImages, batch_size: int, data_order: torch.Generator):
    while True:
        yield from data.epoch_batches(batch_size, data_order)


def quality_over_time(model_name: str, config, dataset: str, checkpoints: list[float], samples: int,
                      device: torch.device, clock, judge_name: str) -> list[dict]:
    train_set = load_image_set(f"data/processed/{dataset}/train.npz")
    panel = Panel.load(f"models/{dataset}/judges", [judge_name], train_set.image_size)
    judge, test_features = panel.judges[judge_name], panel.features[judge_name].test
    data_order = seed_everything(0)
    model = place(model_class(model_name)(config, train_set.image_size, len(train_set.class_names)), device)
    optimizers = model.configure_optimizers()
    data = DeviceImages.from_image_set(train_set, device)
    batches = endless_batches(data, config.batch_size, data_order)
    rows, seconds, steps = [], 0.0, 0
    for checkpoint in sorted(checkpoints):
        model.train()
        while seconds < checkpoint:
            started = clock()
            images, labels = next(batches)
            with autocast(device):
                model.train_step(images, labels, optimizers)
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds += clock() - started
            steps += 1
        finish_training(model, data, FINAL_FIT_IMAGES, seed=0)
        features, logits = predict(judge, draw_samples(model, samples, seed=0, batch_size=500))
        calls = metrics.confident_calls(logits, EvaluateConfig.confidence)
        rows.append({"seconds": checkpoint, "steps": steps, "epochs": round(steps * config.batch_size / len(data), 2),
                     "fid": metrics.frechet_distance(test_features, features),
                     "class_entropy": metrics.class_coverage(*calls, logits.shape[1])["class_entropy"]})
    return rows


def in_canonical_order(table: pd.DataFrame) -> pd.DataFrame:
    """Rows by data set and model in params.yaml's order (`pipeline`), then preset and seconds, so a
    model measured again keeps its place in the CSV (and so in the report drawn from it) instead of moving to
    the end."""
    rank = {"dataset": {name: i for i, name in enumerate(PIPELINE.datasets)},
            "model": {name: i for i, name in enumerate(PIPELINE.models)}}
    return table.sort_values(["dataset", "model", "preset", "seconds"], kind="stable",
                             key=lambda column: column.map(rank[column.name]) if column.name in rank else column,
                             ignore_index=True)


def merge_results(rows: list[dict]) -> pd.DataFrame:
    """This run's rows replace earlier rows of the same data set, model and preset in the CSV."""
    new = pd.DataFrame(rows)
    if RESULTS.exists():
        old = pd.read_csv(RESULTS)
        measured = set(zip(new.dataset, new.model, new.preset))
        old = old[[key not in measured for key in zip(old.dataset, old.model, old.preset)]]
        new = pd.concat([old, new], ignore_index=True)
    new = in_canonical_order(new)
    with atomic_path(RESULTS) as tmp:
        new.to_csv(tmp, index=False)
    return new


def write_report(table: pd.DataFrame) -> None:
    figure, axes = plt.subplots(1, len(table.dataset.unique()), figsize=(6 * len(table.dataset.unique()), 4.5),
                                squeeze=False)
    colours = {model: f"C{i}" for i, model in enumerate(table.model.unique())}  # one colour per model
    for axis, (dataset, rows) in zip(axes[0], table.groupby("dataset", sort=False)):
        for (model, preset), line in rows.groupby(["model", "preset"], sort=False):
            axis.plot(line.seconds, line.fid, marker="o", color=colours[model],
                      linestyle="-" if preset == "default" else "--", label=f"{model} {preset}")
        clock = "CPU seconds, one thread" if set(rows.clock) == {"cpu"} else "wall-clock seconds"
        axis.set(title=dataset, xlabel=f"training time ({clock})", ylabel="FID (judge features; lower is better)",
                 xscale="log", yscale="log")
        axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(HERE / "quality_vs_time.png", dpi=110)

    wide = table.pivot_table(index=["dataset", "model", "seconds"], columns="preset",
                             values=["fid", "class_entropy"], sort=False)
    wide.columns = [f"{metric} {preset}" for metric, preset in wide.columns]
    wide["default wins"] = wide["fid default"] < wide["fid reference"]
    lines = [
        "# Sample quality against training time: default vs reference preset",
        "",
        "Written by `benchmarks/quality_vs_time.py` (see its docstring for the command; these rows by `--models ... --datasets kmnist (then glyphs) --seconds 30 60 120 --clock cpu --threads 1`). Each row trains one run",
        "per preset for that many seconds (`clock`: wall-clock, or the CPU seconds of one thread) and scores it",
        "on `samples` samples with one of the data set's judges (FID: lower is better; class entropy: 1 = every class",
        "equally often). `default` is what params.yaml trains for the data set; `reference` the tutorial recipe.",
        "",
        "| data set | model | judge | clock | threads | samples | machine | torch |",
        "|---|---|---|---|---|---|---|---|",
        *(f"| {' | '.join(map(str, group))} |" for group, _ in
          table.groupby(["dataset", "model", "judge", "clock", "threads", "samples", "machine", "torch"], sort=False)),
        "",
        wide.reset_index().to_markdown(index=False, floatfmt=".3g"),
        "",
        "![FID against training seconds](quality_vs_time.png)",
        "",
    ]
    (HERE / "quality_vs_time.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=PIPELINE.models, choices=MODEL_NAMES)
    parser.add_argument("--datasets", nargs="+", default=PIPELINE.datasets, choices=PIPELINE.datasets)
    parser.add_argument("--seconds", type=float, nargs="+", default=[30, 60, 120, 240])
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0 = torch default, one per core)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--judge", default=load_judge_names(load_params())[0], help="whose features score the runs")
    parser.add_argument("--replot", action="store_true", help="only rewrite the .md and .png from the CSV")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="count wall-clock seconds, or this process's CPU seconds (use with --threads 1)")
    args = parser.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    if args.replot:
        write_report(pd.read_csv(RESULTS))
        return
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    rows = []
    for dataset in args.datasets:
        for model in args.models:
            for preset, config in configs(model, dataset).items():
                for row in quality_over_time(model, config, dataset, args.seconds, args.samples, device, clock,
                                             args.judge):
                    rows.append({"dataset": dataset, "model": model, "preset": preset, **row, "judge": args.judge,
                                 "clock": args.clock, "threads": torch.get_num_threads(), "samples": args.samples,
                                 "machine": platform.machine(), "torch": torch.__version__})
                    print(f"{dataset:<7} {model:<8} {preset:<9} {row['seconds']:>5g} s  {row['steps']:>6} steps  "
                          f"FID {row['fid']:8.1f}  class entropy {row['class_entropy']:.3f}", flush=True)
    write_report(merge_results(rows))


if __name__ == "__main__":
    main()
