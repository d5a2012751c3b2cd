"""Time the evaluate stage's work for one model, phase by phase: wall, user and system seconds.

Reads data/processed/<dataset>/ (or, for KMNIST, the official files in ../shared/kmnist or
GLYPHGEN_KMNIST_MIRROR), the judges in models/<dataset>/judges/ (or untrained ones: the cost does not depend on
the weights) and the generator models/<dataset>/<model>/ (or a test double from tests/doubles.py).

Usage: PYTHONPATH=src python benchmarks/evaluate_time.py [--dataset kmnist] [--model vae] [--samples 10000]
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.doubles

from glyphgen.evaluation import metrics  # noqa: E402
from glyphgen.evaluation.judges import ARCHITECTURES, image_tensor, letters, load_judge, predict  # noqa: E402
from glyphgen.evaluation.realism import two_sample_accuracy  # noqa: E402
from glyphgen.evaluation.scorecard import (  # noqa: E402
    EvaluateConfig, JudgeFeatures, Panel, Splits, ReferenceStats, draw_samples, kernel_reference, score_generator,
)
from glyphgen.io import ImageSet, load_image_set  # noqa: E402
from glyphgen.params import load_judge_names, load_params, load_pipeline  # noqa: E402
from glyphgen.stage import keep_freed_memory  # noqa: E402
from glyphgen.timings import machine  # noqa: E402
from glyphgen.training.checkpoint import load_generator  # noqa: E402
from tests.doubles import PCAAutoencoder  # noqa: E402


def load_split(dataset: str, split: str) -> ImageSet:
    processed = REPO / "data" / "processed" / dataset / f"{split}.npz"
    if processed.exists() or dataset != "kmnist":
        return load_image_set(processed)
    mirror = Path(os.environ.get("GLYPHGEN_KMNIST_MIRROR", REPO.parent / "shared" / "kmnist"))
    name = "train" if split == "train" else "test"
    images = np.load(mirror / f"kmnist-{name}-imgs.npz")["arr_0"]
    labels = np.load(mirror / f"kmnist-{name}-labels.npz")["arr_0"].astype(np.int64)
    return ImageSet(images, labels, [str(i) for i in range(10)])


def timed(label: str, function, *args):
    """Run function(*args); print its wall, user and system seconds (user + system > wall: both cores busy)."""
    before, started = os.times(), time.perf_counter()
    result = function(*args)
    after = os.times()
    print(f"  {label:<30} {time.perf_counter() - started:6.2f} s wall {after.user - before.user:6.2f} user "
          f"{after.system - before.system:5.2f} sys")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="kmnist", choices=load_pipeline(load_params(REPO / "params.yaml")).datasets)
    parser.add_argument("--model", default="vae", help="models/<dataset>/<model>, else a PCA autoencoder double")
    parser.add_argument("--samples", type=int, default=EvaluateConfig().num_samples)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    keep_freed_memory()  # as every stage does

    train_set, test_set = load_split(args.dataset, "train"), load_split(args.dataset, "test")
    train, test = image_tensor(train_set), image_tensor(test_set)
    judges = {}
    for name in load_judge_names(load_params(REPO / "params.yaml")):
        folder = REPO / "models" / args.dataset / "judges" / name
        if folder.exists():
            judges[name] = load_judge(folder)
        else:  # untrained: the timings hold all the same
            judges[name] = ARCHITECTURES[name](len(letters(train_set).class_names)).eval()
    model_dir = REPO / "models" / args.dataset / args.model
    generator = load_generator(model_dir) if model_dir.exists() else PCAAutoencoder(train, latent_dim=8)
    panel = Panel(judges, {name: JudgeFeatures(predict(judge, train[: len(test)])[0], predict(judge, test)[0])
                           for name, judge in judges.items()})
    config = EvaluateConfig(num_samples=args.samples)
    splits = Splits(train, test, train_set.labels, test_set.labels, train_set.class_names)
    print(f"{args.dataset}, {generator.name}, {args.samples} samples, {args.threads} threads, "
          f"train {len(train)}, test {len(test)}; {machine()}")

    print("once per data set (stage evaluate_references):")
    reference = timed("reference stats", ReferenceStats.measure, panel, splits, config)
    print("per model, phase by phase:")
    samples = timed("sample", draw_samples, generator, args.samples, config.seed, config.batch_size)
    for name, judge in judges.items():
        fake = timed(f"{name}: features", lambda: predict(judge, samples, config.batch_size)[0])
        real = panel.features[name].test
        timed(f"{name}: FID and interval", metrics.frechet_distance_interval, real, fake, config.fid_bootstrap,
              torch.Generator().manual_seed(0))
        timed(f"{name}: KID", lambda: metrics.kernel_distance(kernel_reference(real, config), fake, config.seed + 1))
        if name == reference.judge:  # the first judge's only, as in a card
            timed(f"{name}: precision/recall/dens./cov.", metrics.precision_recall_density_coverage, real, fake,
                  config.nearest_k, reference.radius)
    timed("two-sample test", two_sample_accuracy, train[: config.two_sample_images],
          samples[: config.two_sample_images], config.two_sample_epochs, config.seed)
    timed("memorisation search (pixels)", metrics.nearest_distance,
          metrics.pixel_codes(samples[: config.memorisation_samples]), splits.train_codes)
    if generator.has_encoder:
        timed("reconstruction", metrics.reconstruction_errors, generator.reconstruct, test[: config.encoded_images],
              config.batch_size)
    timed(f"whole score_generator ({min(args.samples, len(test))})", score_generator, generator, panel, splits,
          reference, config)

if __name__ == "__main__":
    main()
