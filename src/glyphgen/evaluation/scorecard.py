"""One scorecard per model, and the same card for the ceiling and floor rows (docs/metrics.md). What does not
depend on the model is computed once: the judges' features (train_judges) and `ReferenceStats`."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from glyphgen.errors import GlyphgenError
from glyphgen.evaluation import metrics
from glyphgen.evaluation.categories import category_scores
from glyphgen.evaluation.judges import FEATURES_NAME, Judge, image_tensor, load_judge, predict
from glyphgen.evaluation.realism import two_sample_accuracy
from glyphgen.io import atomic_path, load_image_set
from glyphgen.models.shared.base import Generator
from glyphgen.params import check_range, get_section, load_judge_names, parse_config

@dataclass
class EvaluateConfig:
    num_samples: int = 10000  # at most (sample_count)
    seed: int = 0
    nearest_k: int = 5  # neighbours for precision/recall/density/coverage
    memorisation_quantile: float = 0.05  # share of real test images that count as "memorised" by construction
    memorisation_samples: int = 1000  # samples (and test images) searched against the whole train split, in pixels
    encoded_images: int = 2000  # test images encoded for the reconstruction errors and the prior fit
    conditional_samples: int = 2000  # drawings asked for by class, for conditional and transfer accuracy
    fid_bootstrap: int = 100  # resamples of the sample features for the FID's 0.95 interval (0: no interval)
    kid_subsets: int = 50  # random subsets the KID is averaged over
    kid_subset_size: int = 1000
    confidence: float = 0.5  # a judge's call counts for class coverage when its class probability reaches this
    two_sample_images: int = 2000  # real training images and as many samples for the two-sample test, halved
    two_sample_epochs: int = 6
    sanity_images: int = 1000  # real test images degraded by the metric sanity check (evaluation/sanity.py)
    batch_size: int = 1000

    def __post_init__(self) -> None:
        check_range(self.num_samples, 2 * self.nearest_k + 2, 10**7, "params.yaml:evaluate.num_samples")
        check_range(self.nearest_k, 1, 100, "params.yaml:evaluate.nearest_k")
        check_range(self.memorisation_quantile, 0.0, 1.0, "params.yaml:evaluate.memorisation_quantile")
        check_range(self.encoded_images, 2, 10**6, "params.yaml:evaluate.encoded_images")
        check_range(self.memorisation_samples, 1, 10**7, "params.yaml:evaluate.memorisation_samples")
        check_range(self.conditional_samples, 1, 10**7, "params.yaml:evaluate.conditional_samples")
        check_range(self.fid_bootstrap, 0, 10**4, "params.yaml:evaluate.fid_bootstrap")
        check_range(self.kid_subsets, 1, 10**4, "params.yaml:evaluate.kid_subsets")
        check_range(self.kid_subset_size, 2, 10**6, "params.yaml:evaluate.kid_subset_size")
        check_range(self.confidence, 0.0, 1.0, "params.yaml:evaluate.confidence")
        check_range(self.two_sample_images, 4, 10**6, "params.yaml:evaluate.two_sample_images")
        check_range(self.two_sample_epochs, 1, 1000, "params.yaml:evaluate.two_sample_epochs")
        check_range(self.sanity_images, 16, 10**6, "params.yaml:evaluate.sanity_images")
        check_range(self.batch_size, 1, 10**6, "params.yaml:evaluate.batch_size")


@dataclass
class JudgeFeatures:
    """A judge's features of the test split: every row's reference but the ceiling's."""

    test: torch.Tensor

    def save(self, path: str | Path) -> None:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, test=self.test.numpy())

    @classmethod
    def load(cls, path: str | Path) -> "JudgeFeatures":
        path = Path(path)
        if path.is_dir():
            path = path / FEATURES_NAME
        try:
            with np.load(path) as archive:
                return cls(torch.from_numpy(archive["test"]))
        except FileNotFoundError:
            raise GlyphgenError(f"{path}: judge features not found (run the train_judges stage)") from None


@dataclass
class Panel:
    """The judges of one data set, by name, each with its features of the splits."""

    judges: dict[str, Judge]
    features: dict[str, JudgeFeatures]

    @classmethod
    def load(cls, judges_dir: str | Path, names: list[str], image_size: int) -> "Panel":
        folders = {name: Path(judges_dir) / name for name in names}
        return cls({name: load_judge(folder, image_size) for name, folder in folders.items()},
                   {name: JudgeFeatures.load(folder) for name, folder in folders.items()})

    @property
    def primary(self) -> Judge:
        """The first judge: it also scores class-conditioned drawings (evaluation.categories)."""
        return next(iter(self.judges.values()))


@dataclass
class Splits:
    """The pixels ([0, 1], N x 1 x H x W), labels and class names of the train and test splits."""

    train_images: torch.Tensor
    test_images: torch.Tensor
    train_labels: np.ndarray
    test_labels: np.ndarray
    class_names: list[str]

    @classmethod
    def load(cls, split_dir: str | Path) -> "Splits":
        """From data/processed/<dataset>/."""
        train_set = load_image_set(Path(split_dir) / "train.npz")
        test_set = load_image_set(Path(split_dir) / "test.npz")
        return cls(image_tensor(train_set), image_tensor(test_set), train_set.labels, test_set.labels,
                   train_set.class_names)

    @property
    def image_size(self) -> int:
        return self.test_images.shape[-1]

    @functools.cached_property
    def train_codes(self) -> torch.Tensor:
        """The train split as grey-level rows for the memorisation search (`metrics.pixel_codes`), made once."""
        return metrics.pixel_codes(self.train_images)


def scoring_inputs(params: dict, dataset: str) -> tuple[EvaluateConfig, Splits, Panel]:
    """What every scoring stage reads: params.yaml's evaluate section, the data set's splits and its judges."""
    config = parse_config(EvaluateConfig, get_section(params, "evaluate"), "params.yaml:evaluate")
    splits = Splits.load(f"data/processed/{dataset}")
    return config, splits, Panel.load(f"models/{dataset}/judges", load_judge_names(params), splits.image_size)


def sample_count(config: EvaluateConfig, splits: Splits) -> int:
    """Samples per model and floor, train images for the ceiling: same two set sizes per row (docs/metrics.md)."""
    return min(config.num_samples, len(splits.train_images))


@dataclass
class ReferenceStats:
    """Per data set: the first judge's k-th neighbour radius of every test feature (for PRDC), and the pixel distance
    from some test images to their nearest training image (the memorisation threshold)."""

    judge: str
    radius: torch.Tensor
    test_to_train: torch.Tensor

    @classmethod
    def measure(cls, panel: Panel, splits: Splits, config: EvaluateConfig) -> "ReferenceStats":
        some = metrics.seeded_subset(len(splits.test_images), config.memorisation_samples, config.seed)
        some_tests = splits.test_images[some]
        first = next(iter(panel.features))
        return cls(first, metrics.kth_neighbour_radius(panel.features[first].test, config.nearest_k),
                   metrics.nearest_distance(metrics.pixel_codes(some_tests), splits.train_codes))

    def save(self, path: str | Path) -> None:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, judge=np.array(self.judge), radius=self.radius.numpy(),
                     test_to_train=self.test_to_train.numpy())

    @classmethod
    def load(cls, path: str | Path, first_judge: str) -> "ReferenceStats":
        try:
            with np.load(path) as archive:
                judge = str(archive["judge"]) if "judge" in archive else None
                if judge != first_judge:
                    raise GlyphgenError(f"{path}: reference stats of judge {judge!r}, expected {first_judge!r} "
                                        "(re-run the evaluate_references stage)")
                return cls(judge, torch.from_numpy(archive["radius"]), torch.from_numpy(archive["test_to_train"]))
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
    if not torch.isfinite(samples).all():  # else the judges' features are NaN and FID fails in an eigensolver
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


def kernel_reference(real: torch.Tensor, config: EvaluateConfig) -> metrics.KernelReference:
    return metrics.KernelReference.draw(real, config.kid_subsets, config.kid_subset_size, config.seed)


def judge_scores(judge: Judge, samples: torch.Tensor, real: torch.Tensor, radius: torch.Tensor | None,
                 config: EvaluateConfig) -> tuple[dict[str, float], torch.Tensor]:
    """One judge's scores of the samples (PRDC only where radii are given), and which it recognises confidently."""
    features, logits = predict(judge, samples, config.batch_size)
    scores = {"fid": metrics.frechet_distance(real, features)}
    if config.fid_bootstrap:
        scores["fid_low"], scores["fid_high"] = metrics.frechet_distance_interval(
            real, features, config.fid_bootstrap, torch.Generator().manual_seed(config.seed))
    scores["kid"], scores["kid_std"] = metrics.kernel_distance(kernel_reference(real, config), features, config.seed + 1)
    if radius is not None:
        scores.update(metrics.precision_recall_density_coverage(real, features, config.nearest_k, radius))
    call, confident = metrics.confident_calls(logits, config.confidence)
    scores.update(metrics.class_coverage(call, confident, judge.num_classes))
    return scores, confident


def score_samples(
    panel: Panel, samples: torch.Tensor, real_features: dict[str, torch.Tensor], radius: torch.Tensor,
    test_to_train: torch.Tensor, splits: Splits, config: EvaluateConfig,
) -> dict:
    """A card: each judge's scores under "judges" (PRDC by the first judge only: two all-pairs searches per judge
    cost more than the rest), then the two-sample test and memorisation, in pixels: a copy is near its
    training image pixel by pixel, a blurry average near none."""
    judges, recognised = {}, torch.zeros(len(samples), dtype=torch.bool)
    for index, (name, judge) in enumerate(panel.judges.items()):
        judges[name], confident = judge_scores(judge, samples, real_features[name], radius if index == 0 else None,
                                               config)
        recognised |= confident
    real_images = splits.train_images[
        metrics.seeded_subset(len(splits.train_images), config.two_sample_images, config.seed)]
    some_samples = samples[metrics.seeded_subset(len(samples), config.memorisation_samples, config.seed + 1)]
    sample_to_train = metrics.nearest_distance(metrics.pixel_codes(some_samples), splits.train_codes)
    return {
        "num_samples": len(samples),
        "num_reference": len(next(iter(real_features.values()))),
        "judges": judges,
        "unrecognised_share": float((~recognised).double().mean()),
        **two_sample_accuracy(real_images, samples[: config.two_sample_images], config.two_sample_epochs, config.seed),
        **metrics.memorisation(sample_to_train, test_to_train, config.memorisation_quantile),
    }


@torch.no_grad()
def score_generator(
    generator: Generator, panel: Panel, splits: Splits, reference: ReferenceStats, config: EvaluateConfig,
) -> dict:
    """A model's card: sample metrics, then reconstruction and prior fit (on one code drawn per test image: the
    aggregate posterior a decoder learned to read) with an encoder, then category scores where it has classes."""
    generator.eval()
    device = generator.device  # CUDA when present (stages/evaluate.py); samples and codes come back to the CPU
    samples = draw_samples(generator, sample_count(config, splits), config.seed, config.batch_size)
    test_features = {name: features.test for name, features in panel.features.items()}
    scores = score_samples(panel, samples, test_features, reference.radius, reference.test_to_train, splits, config)
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
        scores.update(category_scores(generator, panel.primary, splits.train_images, splits.train_labels,
                                      splits.test_images, splits.test_labels, config.conditional_samples,
                                      config.seed, config.batch_size))
    return scores


def score_references(panel: Panel, splits: Splits, reference: ReferenceStats, config: EvaluateConfig) -> dict[str, dict]:
    """The ceiling (the test split against `sample_count` train images) and the floor (noise, like a model)."""
    count = sample_count(config, splits)
    some_train = splits.train_images[metrics.seeded_subset(len(splits.train_images), count, config.seed)]
    train_features = {name: predict(judge, some_train, config.batch_size)[0] for name, judge in panel.judges.items()}
    noise = pixel_noise_samples(splits.train_images, count, config.seed)
    test_features = {name: features.test for name, features in panel.features.items()}
    train_radius = metrics.kth_neighbour_radius(train_features[reference.judge], config.nearest_k)
    return {
        "real_test": score_samples(panel, splits.test_images, train_features, train_radius, reference.test_to_train,
                                   splits, config),
        "pixel_noise": score_samples(panel, noise, test_features, reference.radius, reference.test_to_train,
                                     splits, config),
    }
