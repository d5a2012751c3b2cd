"""One scorecard (a flat dict of metrics) per model, and the same card for the floor and ceiling rows.

Every row is scored by `score_samples` against the same judge, on the same number of samples, so a model's
numbers sit between the ceiling (real test images judged against the train split) and the floor (per-pixel
Gaussian noise around the mean training image). What does not depend on the model is computed once: the
judge's features of the train and test splits by the train_classifier stage (`JudgeFeatures`), and the test
split's neighbour radii and distances to the train split by the evaluate_references stage (`ReferenceStats`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from glyphgen.errors import GlyphgenError
from glyphgen.evaluation import metrics
from glyphgen.evaluation.categories import category_scores
from glyphgen.evaluation.classifier import GlyphClassifier, image_tensor, predict
from glyphgen.io import atomic_path, load_image_set
from glyphgen.models.shared.base import Generator
from glyphgen.params import check_range

FEATURES_NAME = "features.npz"


@dataclass
class EvaluateConfig:
    num_samples: int = 10000  # at most: every row is scored on min(num_samples, test split size) samples
    seed: int = 0
    nearest_k: int = 5  # neighbours for precision/recall/density/coverage
    memorisation_quantile: float = 0.05  # share of real test images that count as "memorised" by construction
    memorisation_samples: int = 2000  # samples (and test images) searched against the whole train split, in pixels
    encoded_images: int = 2000  # test images encoded for the reconstruction errors and the prior fit
    fid_bootstrap: int = 100  # resamples of the sample features for the FID's 95% interval (0: no interval)
    batch_size: int = 1000

    def __post_init__(self) -> None:
        check_range(self.num_samples, 2 * self.nearest_k + 2, 10**7, "params.yaml:evaluate.num_samples")
        check_range(self.nearest_k, 1, 100, "params.yaml:evaluate.nearest_k")
        check_range(self.memorisation_quantile, 0.0, 1.0, "params.yaml:evaluate.memorisation_quantile")
        check_range(self.encoded_images, 2, 10**6, "params.yaml:evaluate.encoded_images")
        check_range(self.memorisation_samples, 1, 10**7, "params.yaml:evaluate.memorisation_samples")
        check_range(self.fid_bootstrap, 0, 10**4, "params.yaml:evaluate.fid_bootstrap")
        check_range(self.batch_size, 1, 10**6, "params.yaml:evaluate.batch_size")


@dataclass
class JudgeFeatures:
    """The judge's penultimate features (N x 128) of the test split, and of a seeded sample of as many train
    images (the ceiling's reference)."""

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
    train_labels: np.ndarray | None = None  # for the category scores (evaluation.categories)
    test_labels: np.ndarray | None = None

    @classmethod
    def load(cls, split_dir: str | Path, classifier_dir: str | Path) -> "Splits":
        """From data/processed/<dataset>/ and the judge's folder models/<dataset>/classifier/."""
        train_set = load_image_set(Path(split_dir) / "train.npz")
        test_set = load_image_set(Path(split_dir) / "test.npz")
        return cls(JudgeFeatures.load(classifier_dir), image_tensor(train_set), image_tensor(test_set), train_set.labels,
                   test_set.labels)

    @property
    def image_size(self) -> int:
        return self.test_images.shape[-1]

    @functools.cached_property
    def train_codes(self) -> torch.Tensor:
        """The train split as int8 rows for the memorisation search (`metrics.pixel_codes`), made once."""
        return metrics.pixel_codes(self.train_images)


def sample_count(config: EvaluateConfig, splits: Splits) -> int:
    """How many samples every row is scored on: FID and PRDC shift with the number of samples, so the ceiling
    (at most as many real images as the test split holds) and the models must use the same number."""
    return min(config.num_samples, len(splits.test_images))


def _memorisation_subset(count: int, config: EvaluateConfig, salt: int) -> torch.Tensor:
    """A seeded choice of `config.memorisation_samples` indices out of `count` (salt: 0 test images, 1 samples)."""
    rng = torch.Generator().manual_seed(config.seed + salt)
    return torch.randperm(count, generator=rng)[: config.memorisation_samples]


@dataclass
class ReferenceStats:
    """What a model is compared with that does not depend on the model (computed once per data set by the
    evaluate_references stage, and saved): each test feature's k-th neighbour radius (precision, density,
    coverage) and the pixel distance from a seeded subset of test images to their nearest training image
    (the memorisation threshold)."""

    radius: torch.Tensor
    test_to_train: torch.Tensor

    @classmethod
    def measure(cls, splits: Splits, config: EvaluateConfig) -> "ReferenceStats":
        some_tests = splits.test_images[_memorisation_subset(len(splits.test_images), config, salt=0)]
        return cls(metrics.kth_neighbour_radius(splits.features.test, config.nearest_k),
                   metrics.nearest_distance(metrics.pixel_codes(some_tests), splits.train_codes))

    def save(self, path: str | Path) -> None:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, radius=self.radius.numpy(), test_to_train=self.test_to_train.numpy())

    @classmethod
    def load(cls, path: str | Path) -> "ReferenceStats":
        try:
            with np.load(path) as archive:
                return cls(torch.from_numpy(archive["radius"]), torch.from_numpy(archive["test_to_train"]))
        except FileNotFoundError:
            raise GlyphgenError(f"{path}: reference stats not found (run the evaluate_references stage)") from None


@torch.no_grad()
def draw_samples(generator: Generator, count: int, seed: int, batch_size: int) -> torch.Tensor:
    """`count` samples in [0, 1], N x 1 x H x W on the CPU, the same ones for the same seed."""
    generator.eval()
    rng = torch.Generator().manual_seed(seed)
    batches = [generator.sample(min(batch_size, count - start), generator=rng).float().cpu()
               for start in range(0, count, batch_size)]
    samples = torch.cat(batches)
    if not torch.isfinite(samples).all():  # else the judge's features are NaN and FID fails in an eigensolver
        bad = int((~torch.isfinite(samples)).flatten(1).any(dim=1).sum())
        raise GlyphgenError(f"{generator.name}: {bad} of {count} samples hold NaN or infinite pixels "
                            "(the weights diverged; retrain with a lower learning rate)")
    return samples


def pixel_noise_samples(train_images: torch.Tensor, count: int, seed: int) -> torch.Tensor:
    """The floor: each pixel drawn independently from a Gaussian with that pixel's training mean and std."""
    rng = torch.Generator().manual_seed(seed)
    mean, std = train_images.mean(dim=0), train_images.std(dim=0)
    noise = torch.randn((count, *mean.shape), generator=rng)
    return (mean + std * noise).clamp(0, 1)


def score_samples(
    judge: GlyphClassifier, samples: torch.Tensor, features: torch.Tensor, radius: torch.Tensor,
    test_to_train: torch.Tensor, splits: Splits, config: EvaluateConfig,
) -> dict[str, float]:
    """FID with its bootstrap interval, and precision/recall/density/coverage, against real `features` (whose
    k-th neighbour radii are `radius`); class coverage; memorisation against the train split's pixels, with
    the threshold from `test_to_train`.

    Memorisation is measured in pixels, not judge features: a copy of a training image is near it pixel by
    pixel, while a blurry average is far from every training image even where its features look typical.
    """
    sample_features, sample_logits = predict(judge, samples, config.batch_size)
    some_samples = samples[_memorisation_subset(len(samples), config, salt=1)]
    scores = {"num_samples": len(samples), "fid": metrics.frechet_distance(features, sample_features)}
    if config.fid_bootstrap:
        rng = torch.Generator().manual_seed(config.seed)
        scores["fid_low"], scores["fid_high"] = metrics.frechet_distance_interval(
            features, sample_features, config.fid_bootstrap, rng)
    sample_to_train = metrics.nearest_distance(metrics.pixel_codes(some_samples), splits.train_codes)
    return {
        **scores,
        **metrics.precision_recall_density_coverage(features, sample_features, config.nearest_k, radius),
        **metrics.class_coverage(sample_logits),
        **metrics.memorisation(sample_to_train, test_to_train, config.memorisation_quantile),
    }


@torch.no_grad()
def score_generator(
    generator: Generator, judge: GlyphClassifier, splits: Splits, reference: ReferenceStats, config: EvaluateConfig,
) -> dict[str, float]:
    """A model's scorecard: sample metrics against the test split, plus reconstruction and prior fit if it
    has an encoder (for a plain autoencoder the prior fit shows how far its codes are from N(0, I)), plus the
    category scores of a conditional model or one with a categorical head (evaluation.categories).

    The prior fit is measured on the aggregate posterior: one code drawn from q(z|x) per test image (the code
    itself for deterministic encoders), the distribution a VAE's decoder learned to read.
    """
    generator.eval()
    device = generator.device  # CUDA when present (stages/evaluate.py); samples and codes come back to the CPU
    samples = draw_samples(generator, sample_count(config, splits), config.seed, config.batch_size)
    scores = score_samples(judge, samples, splits.features.test, reference.radius, reference.test_to_train,
                           splits, config)
    if generator.has_encoder:
        images = splits.test_images[: config.encoded_images]
        scores.update(metrics.reconstruction_errors(lambda batch: generator.reconstruct(batch.to(device)).float().cpu(),
                                                    images, config.batch_size))
        rng = torch.Generator().manual_seed(config.seed)
        codes = torch.cat([generator.encode_sample(batch.to(device), generator=rng).float().cpu()
                           for batch in images.split(config.batch_size)])
        scores["prior_kl"] = metrics.gaussian_kl_to_standard(codes)
        scores["prior_mmd"] = metrics.mmd_to_standard(codes, rng)
    if generator.conditional or generator.categorical_head:
        scores.update(category_scores(generator, judge, splits.train_images, splits.train_labels, splits.test_images,
                                      splits.test_labels, sample_count(config, splits), config.seed, config.batch_size))
    return scores


def score_references(
    judge: GlyphClassifier, splits: Splits, reference: ReferenceStats, config: EvaluateConfig,
) -> dict[str, dict[str, float]]:
    """The ceiling (real test images against as many train images' features) and the floor (pixel noise against
    the test split, like a model), each on as many samples as a model row."""
    features, count = splits.features, sample_count(config, splits)
    rng = torch.Generator().manual_seed(config.seed)
    real_samples = splits.test_images[torch.randperm(len(splits.test_images), generator=rng)[:count]]
    noise = pixel_noise_samples(splits.train_images, count, config.seed)
    train_radius = metrics.kth_neighbour_radius(features.train, config.nearest_k)
    return {
        "real_test": score_samples(judge, real_samples, features.train, train_radius, reference.test_to_train,
                                   splits, config),
        "pixel_noise": score_samples(judge, noise, features.test, reference.radius, reference.test_to_train,
                                     splits, config),
    }
