"""Sample-quality metrics on the judge's features: each a pure function of tensors, so tests can pin them down.

Features are float N x D tensors (the classifier's penultimate layer); "real" is the reference set (the test
split for a model), "fake" the samples. Distances are Euclidean, computed in row chunks to bound memory.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance

CHUNK_ROWS = 1024


class _PrecomputedFeatures(nn.Identity):
    """Lets torchmetrics' FID take features we already extracted, so the judge runs once per image."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features


def frechet_distance(real: torch.Tensor, fake: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (FID, on the judge's features)."""
    fid = FrechetInceptionDistance(feature=_PrecomputedFeatures(real.shape[1]), reset_real_features=False)
    fid.update(real.double(), real=True)
    fid.update(fake.double(), real=False)
    return float(fid.compute())


def _chunked_distances(queries: torch.Tensor, references: torch.Tensor):
    """Yield (row offset, distance block) for the queries x references distance matrix."""
    for start in range(0, len(queries), CHUNK_ROWS):
        yield start, torch.cdist(queries[start : start + CHUNK_ROWS], references)


def nearest_distance(queries: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
    """Distance from each query to its nearest reference."""
    return torch.cat([block.min(dim=1).values for _, block in _chunked_distances(queries, references)])


def kth_neighbour_radius(points: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each point to its k-th nearest other point (k + 1 counts the point itself at 0)."""
    return torch.cat([block.kthvalue(k + 1, dim=1).values for _, block in _chunked_distances(points, points)])


def precision_recall_density_coverage(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> dict[str, float]:
    """Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative Models", with k neighbours.

    Each point owns a ball reaching its k-th nearest neighbour in its own set. Precision: share of fakes inside
    some real ball. Recall: share of reals inside some fake ball. Density: real balls containing each fake,
    averaged and divided by k (about 1 for matching distributions). Coverage: share of real balls holding a fake.
    """
    real_radius = kth_neighbour_radius(real, k)
    fake_radius = kth_neighbour_radius(fake, k)
    in_real_ball_counts = torch.zeros(len(fake))
    real_in_fake_ball = torch.zeros(len(real), dtype=torch.bool)
    nearest_fake = torch.empty(len(real))
    for start, block in _chunked_distances(real, fake):  # block: real chunk x all fakes
        rows = slice(start, start + len(block))
        in_real_ball_counts += (block <= real_radius[rows, None]).sum(dim=0)
        real_in_fake_ball[rows] = (block <= fake_radius[None, :]).any(dim=1)
        nearest_fake[rows] = block.min(dim=1).values
    return {
        "precision": float((in_real_ball_counts > 0).float().mean()),
        "recall": float(real_in_fake_ball.float().mean()),
        "density": float(in_real_ball_counts.mean() / k),
        "coverage": float((nearest_fake <= real_radius).float().mean()),
    }


def class_coverage(logits: torch.Tensor) -> dict[str, float]:
    """How evenly the judge spreads the samples over the classes; mode collapse shows as low entropy.

    class_entropy is normalised by log(classes) (1 = uniform, 0 = a single class); class_kl_uniform is
    KL(predicted class histogram || uniform) in nats; classes_present counts classes predicted at least once.
    """
    num_classes = logits.shape[1]
    counts = torch.bincount(logits.argmax(dim=1), minlength=num_classes).double()
    share = counts / counts.sum()
    entropy = float(torch.special.entr(share).sum())  # entr(p) = -p log p, with entr(0) = 0
    return {
        "class_entropy": entropy / math.log(num_classes),
        "class_kl_uniform": math.log(num_classes) - entropy,
        "classes_present": float((counts > 0).double().mean()),
    }


def memorisation(fake: torch.Tensor, train: torch.Tensor, test: torch.Tensor, quantile: float) -> dict[str, float]:
    """Share of samples closer to their nearest training image than held-out test images usually are.

    The threshold is the `quantile` of test-to-nearest-train distances (in whatever space the vectors live;
    the scorecard passes pixels), so real unseen data scores `quantile` by construction, a generator that
    copies training images scores near 1, and noise or blurry averages near 0. Also reported: median
    sample-to-train distance over the test median.
    """
    test_to_train = nearest_distance(test, train)
    fake_to_train = nearest_distance(fake, train)
    threshold = torch.quantile(test_to_train, quantile)
    return {
        "memorisation_rate": float((fake_to_train < threshold).float().mean()),
        "train_distance_ratio": float(fake_to_train.median() / test_to_train.median()),
    }


@torch.no_grad()
def reconstruction_errors(reconstruct, images: torch.Tensor, batch_size: int = 1000) -> dict[str, float]:
    """Per-pixel MSE and binary cross-entropy of `reconstruct(images)` against [0, 1] images."""
    squared, cross_entropy = 0.0, 0.0
    for batch in images.split(batch_size):
        output = reconstruct(batch).clamp(1e-6, 1 - 1e-6)
        squared += float(F.mse_loss(output, batch, reduction="sum"))
        cross_entropy += float(F.binary_cross_entropy(output, batch, reduction="sum"))
    return {"reconstruction_mse": squared / images.numel(), "reconstruction_bce": cross_entropy / images.numel()}


def gaussian_kl_to_standard(codes: torch.Tensor) -> float:
    """KL(N(mean, cov) || N(0, I)) for a Gaussian fitted to latent codes N x d; 0 when they match the prior."""
    codes = codes.double()
    mean = codes.mean(dim=0)
    cov = torch.cov(codes.T).reshape(codes.shape[1], codes.shape[1])
    return float(0.5 * (cov.trace() + mean @ mean - codes.shape[1] - torch.logdet(cov)))


def mmd_to_standard(codes: torch.Tensor, generator: torch.Generator) -> float:
    """Unbiased squared MMD between codes and as many N(0, I) draws, Gaussian kernel of width sqrt(d)."""
    prior = torch.randn(codes.shape, generator=generator, dtype=torch.float64)
    codes = codes.double()

    def mean_kernel(a: torch.Tensor, b: torch.Tensor, same: bool) -> torch.Tensor:
        kernel = torch.exp(-torch.cdist(a, b).square() / (2 * codes.shape[1]))
        if same:  # drop the diagonal for the unbiased estimate
            return (kernel.sum() - kernel.diagonal().sum()) / (len(a) * (len(a) - 1))
        return kernel.mean()

    return float(mean_kernel(codes, codes, True) + mean_kernel(prior, prior, True) - 2 * mean_kernel(codes, prior, False))
