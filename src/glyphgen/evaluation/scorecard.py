"""One scorecard (a flat dict of metrics) per model, and the same card for the floor and ceiling rows.

Every row is scored by `score_samples` against the same judge, so a model's numbers sit between the ceiling
(real test images judged against the train split) and the floor (per-pixel Gaussian noise around the mean
training image). The judge's features of the train and test splits are computed once, by the
train_classifier stage, and passed in as `JudgeFeatures`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from glyphgen.errors import GlyphgenError
from glyphgen.evaluation import metrics
from glyphgen.evaluation.classifier import GlyphClassifier, image_tensor, predict
from glyphgen.io import atomic_path, load_image_set
from glyphgen.models.shared.base import Generator
from glyphgen.params import check_range

FEATURES_NAME = "features.npz"


@dataclass
class EvaluateConfig:
    num_samples: int = 10000
    seed: int = 0
    nearest_k: int = 5  # neighbours for precision/recall/density/coverage
    memorisation_quantile: float = 0.05  # share of real test images that count as "memorised" by construction
    memorisation_samples: int = 2000  # samples (and test images) searched against the whole train split, in pixels
    prior_codes: int = 2000  # encoded test images compared with N(0, I) by MMD
    batch_size: int = 250

    def __post_init__(self) -> None:
        check_range(self.num_samples, 2 * self.nearest_k + 2, 10**7, "params.yaml:evaluate.num_samples")
        check_range(self.nearest_k, 1, 100, "params.yaml:evaluate.nearest_k")
        check_range(self.memorisation_quantile, 0.0, 1.0, "params.yaml:evaluate.memorisation_quantile")
        check_range(self.prior_codes, 2, 10**6, "params.yaml:evaluate.prior_codes")
        check_range(self.memorisation_samples, 1, 10**7, "params.yaml:evaluate.memorisation_samples")
        check_range(self.batch_size, 1, 10**6, "params.yaml:evaluate.batch_size")


@dataclass
class JudgeFeatures:
    """The judge's penultimate features of the train and test splits (N x 128 each)."""

    train: torch.Tensor
    test: torch.Tensor

    def save(self, path: str | Path) -> None:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, train=self.train.numpy(), test=self.test.numpy())

    @classmethod
    def load(cls, path: str | Path) -> "JudgeFeatures":
        path = Path(path)
        if path.is_dir():
            path = path / FEATURES_NAME
        try:
            with np.load(path) as archive:
                return cls(torch.from_numpy(archive["train"]), torch.from_numpy(archive["test"]))
        except FileNotFoundError:
            raise GlyphgenError(f"{path}: judge features not found (run the train_classifier stage)") from None


@dataclass
class Splits:
    """What every row is scored against: the judge's features and the pixels ([0, 1], N x 1 x H x W) of the
    train and test splits."""

    features: JudgeFeatures
    train_images: torch.Tensor
    test_images: torch.Tensor

    @classmethod
    def load(cls, split_dir: str | Path, classifier_dir: str | Path) -> "Splits":
        """From data/processed/<dataset>/ and the judge's folder models/<dataset>/classifier/."""
        train_set = load_image_set(Path(split_dir) / "train.npz")
        test_set = load_image_set(Path(split_dir) / "test.npz")
        return cls(JudgeFeatures.load(classifier_dir), image_tensor(train_set), image_tensor(test_set))

    @property
    def image_size(self) -> int:
        return self.test_images.shape[-1]


@torch.no_grad()
def draw_samples(generator: Generator, count: int, seed: int, batch_size: int) -> torch.Tensor:
    """`count` samples in [0, 1], N x 1 x H x W on the CPU, the same ones for the same seed."""
    generator.eval()
    rng = torch.Generator().manual_seed(seed)
    batches = [generator.sample(min(batch_size, count - start), generator=rng).float().cpu()
               for start in range(0, count, batch_size)]
    return torch.cat(batches)


def pixel_noise_samples(train_images: torch.Tensor, count: int, seed: int) -> torch.Tensor:
    """The floor: each pixel drawn independently from a Gaussian with that pixel's training mean and std."""
    rng = torch.Generator().manual_seed(seed)
    mean, std = train_images.mean(dim=0), train_images.std(dim=0)
    noise = torch.randn((count, *mean.shape), generator=rng)
    return (mean + std * noise).clamp(0, 1)


def score_samples(
    judge: GlyphClassifier, samples: torch.Tensor, reference: torch.Tensor, splits: Splits, config: EvaluateConfig,
) -> dict[str, float]:
    """FID, precision/recall/density/coverage against `reference` features, class coverage, memorisation.

    Memorisation is measured in pixels, not judge features: a copy of a training image is near it pixel by
    pixel, while a blurry average is far from every training image even where its features look typical.
    """
    sample_features, sample_logits = predict(judge, samples, config.batch_size)
    rng = torch.Generator().manual_seed(config.seed)
    some_samples = samples[torch.randperm(len(samples), generator=rng)[: config.memorisation_samples]]
    some_tests = splits.test_images[torch.randperm(len(splits.test_images), generator=rng)[: config.memorisation_samples]]
    return {
        "num_samples": len(samples),
        "fid": metrics.frechet_distance(reference, sample_features),
        **metrics.precision_recall_density_coverage(reference, sample_features, config.nearest_k),
        **metrics.class_coverage(sample_logits),
        **metrics.memorisation(some_samples.flatten(1), splits.train_images.flatten(1), some_tests.flatten(1),
                               config.memorisation_quantile),
    }


@torch.no_grad()
def score_generator(generator: Generator, judge: GlyphClassifier, splits: Splits, config: EvaluateConfig) -> dict[str, float]:
    """A model's scorecard: sample metrics against the test split, plus reconstruction and prior fit if it
    has an encoder (for a plain autoencoder the prior fit shows how far its codes are from N(0, I))."""
    generator = generator.cpu().eval()
    samples = draw_samples(generator, config.num_samples, config.seed, config.batch_size)
    scores = score_samples(judge, samples, splits.features.test, splits, config)
    if generator.has_encoder:
        test_images = splits.test_images
        scores.update(metrics.reconstruction_errors(generator.reconstruct, test_images, config.batch_size))
        codes = torch.cat([generator.encode(batch) for batch in test_images[: config.prior_codes].split(config.batch_size)])
        rng = torch.Generator().manual_seed(config.seed)
        scores["prior_kl"] = metrics.gaussian_kl_to_standard(codes)
        scores["prior_mmd"] = metrics.mmd_to_standard(codes, rng)
    return scores


def score_references(judge: GlyphClassifier, splits: Splits, config: EvaluateConfig) -> dict[str, dict[str, float]]:
    """The ceiling (real test images against an equally large slice of the train split) and the floor."""
    features = splits.features
    rng = torch.Generator().manual_seed(config.seed)
    train_slice = torch.randperm(len(features.train), generator=rng)[: len(splits.test_images)]
    noise = pixel_noise_samples(splits.train_images, config.num_samples, config.seed)
    return {
        "real_test": score_samples(judge, splits.test_images, features.train[train_slice], splits, config),
        "pixel_noise": score_samples(judge, noise, features.test, splits, config),
    }
