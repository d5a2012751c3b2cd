"""Time the evaluate stage's work for one model at the default sample count, on CPU, phase by phase.

Uses the KMNIST mirror (../shared/kmnist or GLYPHGEN_KMNIST_MIRROR) and test-double generators from tests/,
so it needs no trained model: the cost of evaluation does not depend on the weights. The judge's features
of the train and test splits are computed beforehand (the train_classifier stage stores them), as in the stage.

Usage: PYTHONPATH=src python benchmarks/evaluate_time.py [--samples 10000] [--threads N]
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
from glyphgen.evaluation.classifier import GlyphClassifier, image_tensor, predict  # noqa: E402
from glyphgen.evaluation.scorecard import EvaluateConfig, JudgeFeatures, Splits, draw_samples, score_generator  # noqa: E402
from glyphgen.io import ImageSet  # noqa: E402
from tests.doubles import NoisyCopies, PCAAutoencoder, RepeatedImage  # noqa: E402


def load_split(mirror: Path, split: str) -> ImageSet:
    images = np.load(mirror / f"kmnist-{split}-imgs.npz")["arr_0"]
    labels = np.load(mirror / f"kmnist-{split}-labels.npz")["arr_0"].astype(np.int64)
    return ImageSet(images, labels, [str(i) for i in range(10)])


def timed(label: str, function, *args):
    started = time.perf_counter()
    result = function(*args)
    print(f"  {label:<28} {time.perf_counter() - started:7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=EvaluateConfig().num_samples)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    mirror = Path(os.environ.get("GLYPHGEN_KMNIST_MIRROR", REPO.parent / "shared" / "kmnist"))
    train, test = image_tensor(load_split(mirror, "train")), image_tensor(load_split(mirror, "test"))
    judge = GlyphClassifier(10).eval()  # untrained: the cost is the same as a trained judge's
    features = JudgeFeatures(predict(judge, train)[0], predict(judge, test)[0])
    config = EvaluateConfig(num_samples=args.samples)
    print(f"KMNIST, {args.samples} samples, {args.threads} threads, train {len(train)}, test {len(test)}")

    doubles = {"noisy_copies": NoisyCopies(train, 0.1), "repeated_image": RepeatedImage(train[0]),
               "pca_autoencoder (encoder)": PCAAutoencoder(train[:10000], latent_dim=2)}
    for name, generator in doubles.items():
        print(f"{name}: phases")
        samples = timed("sample", draw_samples, generator, config.num_samples, config.seed, config.batch_size)
        fake = timed("judge features", lambda: predict(judge, samples, config.batch_size)[0])
        timed("FID", metrics.frechet_distance, features.test, fake)
        timed("precision/recall/dens./cov.", metrics.precision_recall_density_coverage, features.test, fake)
        some = config.memorisation_samples
        timed("memorisation (pixels)", metrics.memorisation, samples[:some].flatten(1), train.flatten(1),
              test[:some].flatten(1), config.memorisation_quantile)
        started = time.perf_counter()
        score_generator(generator, judge, Splits(features, train, test), config)
        print(f"  {'whole evaluation':<28} {time.perf_counter() - started:7.2f} s")


if __name__ == "__main__":
    main()
