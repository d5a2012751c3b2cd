"""Train one model at its `reference` preset for about `--seconds` through the real training loop, then run the
real `evaluate` and `render` stages on it; print one JSON line of what happened (run by scripts/gpu_check.sh).

    PYTHONPATH=src python scripts/gpu_check.py ae --seconds 60 [--compile reduce-overhead] [--device auto]

The epochs are sized from the loop's measured rate: the step is built as train() builds it (compiled, warmed
up), timed over a few hundred steps, and the run gets the whole epochs that fill `--seconds`. Reads
data/processed/kmnist/train.npz, writes models/kmnist/<model>/, metrics/kmnist/... and reports/renders/...:
run it in a scratch copy of the repository (the GPU box gets one), not in a pipeline's workspace.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from versus_reference import glyphgen_loop, synchronize  # noqa: E402

from glyphgen.io import load_image_set  # noqa: E402
from glyphgen.models import MODEL_NAMES, model_class  # noqa: E402
from glyphgen.params import get_section, load_params, parse_config  # noqa: E402
from glyphgen.training.device import pick_device  # noqa: E402
from glyphgen.training.loop import TrainConfig, train  # noqa: E402


def measured_rate(name: str, config, train_set, device: torch.device, train_config: TrainConfig) -> float:
    """Images/s of the loop's step on this device, after its compile and warm-up."""
    run = glyphgen_loop(name, config, train_set, device, train_config)
    run(20)
    synchronize(device)
    steps, started = 0, time.perf_counter()
    while steps < 50 or time.perf_counter() - started < 3:
        run(50)
        synchronize(device)
        steps += 50
    return steps * config.batch_size / (time.perf_counter() - started)


def stage(*command: str) -> dict:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True)
    return {"seconds": round(time.perf_counter() - started, 1), "returncode": done.returncode,
            "output": (done.stdout + done.stderr)[-600:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=MODEL_NAMES)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--compile", choices=["none", "default", "reduce-overhead", "cuda-graph"], default="cuda-graph")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    os.chdir(ROOT)
    train_config = parse_config(TrainConfig, get_section(load_params(), "train"), "params.yaml:train")
    train_config = replace(train_config, compile=args.compile, device=args.device, log_every=200)
    device = pick_device(args.device)
    train_set = load_image_set("data/processed/kmnist/train.npz")
    config = model_class(args.model).presets["reference"]
    report = {"model": args.model, "preset": "reference", "device": str(device), "compile": args.compile,
              "bf16": train_config.bf16, "batch_size": config.batch_size}
    started = time.perf_counter()
    report["calibrated_images_per_second"] = round(measured_rate(args.model, config, train_set, device, train_config))
    report["calibration_seconds"] = round(time.perf_counter() - started, 1)
    epochs = max(1, math.floor(args.seconds * report["calibrated_images_per_second"] / len(train_set)))
    report["epochs"] = epochs
    timing = train(args.model, config, train_set, epochs, train_config, f"models/kmnist/{args.model}",
                   f"runs/kmnist/{args.model}", f"metrics/kmnist/training/{args.model}")
    report.update(timing)
    if device.type == "cuda":
        report["max_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    report["evaluate"] = stage("stages/evaluate.py", "kmnist", args.model)
    scores = Path(f"metrics/kmnist/{args.model}.json")
    if scores.exists():
        card = json.loads(scores.read_text())
        report["scores"] = {"num_samples": card["num_samples"], "reconstruction_mse": card.get("reconstruction_mse"),
                            **{f"{judge}.fid": judged["fid"] for judge, judged in card["judges"].items()}}
    report["render"] = stage("stages/render.py", "kmnist", args.model)
    report["renders"] = sorted(path.name for path in Path(f"reports/renders/kmnist/{args.model}").glob("*"))
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
