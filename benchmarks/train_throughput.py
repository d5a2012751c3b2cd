"""Training throughput (images/s) of every generator on this machine's device, default and reference presets.

    PYTHONPATH=src python benchmarks/train_throughput.py [--seconds 5] [--sizes 28 64] [--models ae gan]
        [--threads N] [--contiguous]

Times `train_step` on random batches for about `--seconds` each after two warm-up steps, as the training
loop runs it (autocast on CUDA, channels-last conv weights, `--threads` like params train.threads);
`--contiguous` keeps the weights NCHW, to compare the layouts. A figure to read, not a test: CPU
numbers move with whatever else runs on the machine.
"""

from __future__ import annotations

import argparse
import time

import torch

from glyphgen.models import MODEL_NAMES, model_class
from glyphgen.training.device import autocast, pick_device, place


def images_per_second(name: str, preset: str, image_size: int, seconds: float, device: torch.device,
                      channels_last: bool = True) -> float:
    generator_class = model_class(name)
    model = generator_class(generator_class.presets[preset], image_size, num_classes=10)
    model = place(model, device) if channels_last else model.to(device)
    optimizers = model.configure_optimizers()
    batch_size = model.config.batch_size
    images = torch.rand(batch_size, 1, image_size, image_size, device=device)
    labels = torch.zeros(batch_size, dtype=torch.long, device=device)

    def step() -> None:
        with autocast(device):
            model.train_step(images, labels, optimizers)

    for _ in range(2):  # warm-up: allocator, kernel selection
        step()
    steps, started = 0, time.perf_counter()
    while steps < 2 or time.perf_counter() - started < seconds:
        step()
        steps += 1
        if device.type == "cuda" and steps % 10 == 0:
            torch.cuda.synchronize()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch_size / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="timing per model, preset and size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[28, 64])
    parser.add_argument("--models", nargs="+", default=list(MODEL_NAMES), choices=MODEL_NAMES)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0,
                        help="CPU threads (0 = torch default, like params train.threads)")
    parser.add_argument("--contiguous", action="store_true", help="NCHW conv weights instead of channels-last")
    args = parser.parse_args()
    device = pick_device(args.device)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    print(f"device: {device}, torch threads: {torch.get_num_threads()}, "
          f"conv weights: {'NCHW' if args.contiguous else 'channels-last'}")
    print(f"{'model':<8} {'preset':<10} {'size':>4} {'batch':>5} {'images/s':>10}")
    for name in args.models:
        for preset in ("default", "reference"):
            for size in args.sizes:
                rate = images_per_second(name, preset, size, args.seconds, device, not args.contiguous)
                batch = model_class(name).presets[preset].batch_size
                print(f"{name:<8} {preset:<10} {size:>4} {batch:>5} {rate:>10.0f}", flush=True)


if __name__ == "__main__":
    main()
