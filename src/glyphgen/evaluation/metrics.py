"""Sample-quality metrics, each a pure function of tensors so tests can pin them down. Features are N x D ("real":
the reference set, "fake": the samples); all-pairs searches reuse one distance buffer (fresh ones cost page
faults)."""

from __future__ import annotations

import contextlib
import math
import statistics
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.nn.functional as F

BLOCK_BYTES = 32 * 2**20  # one distance block (float32): big enough for fast matrix products, small enough to reuse


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Small tensor operations on one thread (a `with` block or a decorator): on a busy machine, OpenMP's waiting
    threads cost more than they share."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)



def gaussian_moments(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (D) and covariance (D x D) of N x D features, in float64."""
    features = features.double()
    return features.mean(dim=0), torch.cov(features.T).reshape(features.shape[1], features.shape[1])


@one_thread()
def _symmetric_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """The positive semi-definite square root of a symmetric PSD matrix (negative rounding clamped to 0)."""
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


@one_thread()
def _frechet_from_moments(mean_a, cov_a, sqrt_cov_a, mean_b, cov_b) -> float:
    """|mean_a - mean_b|^2 + tr(cov_a + cov_b - 2 (cov_a cov_b)^1/2), the root's trace from the eigenvalues of the
    symmetric cov_a^1/2 cov_b cov_a^1/2, so a singular covariance (dead features) is no problem."""
    middle = sqrt_cov_a @ cov_b @ sqrt_cov_a
    trace_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    return float((mean_a - mean_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * trace_sqrt)


def frechet_distance(real: torch.Tensor, fake: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (FID, on the judge's features)."""
    mean_real, cov_real = gaussian_moments(real)
    mean_fake, cov_fake = gaussian_moments(fake)
    return _frechet_from_moments(mean_real, cov_real, _symmetric_sqrt(cov_real), mean_fake, cov_fake)


@one_thread()
def frechet_distance_interval(
    real: torch.Tensor, fake: torch.Tensor, draws: int, generator: torch.Generator, level: float = 0.95,
    blocks: int = 200,
) -> tuple[float, float]:
    """The distance +- z standard deviations of its bootstrap over the fake features (what differs between two
    evaluations). Normal, not percentile: resampled duplicates bias the FID upwards. Whole groups of samples are
    resampled, so a draw costs blocks x D^2, not N x D^2."""
    mean_real, cov_real = gaussian_moments(real)
    sqrt_cov_real = _symmetric_sqrt(cov_real)
    fake = fake.double()
    mean_fake, cov_fake = gaussian_moments(fake)
    distance = _frechet_from_moments(mean_real, cov_real, sqrt_cov_real, mean_fake, cov_fake)
    groups = (fake - mean_fake)[torch.randperm(len(fake), generator=generator)].tensor_split(min(blocks, len(fake)))
    sizes = torch.tensor([len(group) for group in groups], dtype=torch.float64)
    sums = torch.stack([group.sum(dim=0) for group in groups])  # blocks x D
    products = torch.stack([group.T @ group for group in groups])  # blocks x D x D
    distances = []
    for _ in range(draws):
        weights = torch.bincount(torch.randint(len(groups), (len(groups),), generator=generator),
                                 minlength=len(groups)).double()
        count = weights @ sizes
        shift = weights @ sums / count  # the resample's mean minus the full sample's
        second_moment = torch.einsum("g,gij->ij", weights, products) / count
        cov = (second_moment - torch.outer(shift, shift)) * (count / (count - 1))
        distances.append(_frechet_from_moments(mean_real, cov_real, sqrt_cov_real, mean_fake + shift, cov))
    half_width = statistics.NormalDist().inv_cdf((1 + level) / 2) * statistics.stdev(distances)
    return max(0.0, distance - half_width), distance + half_width



def pixel_codes(images: torch.Tensor) -> torch.Tensor:
    """Images as rows of grey levels minus 128, in a float type whose products are exact in any summation order
    (up to 1024 products of at most 2^14 stay below 2^24 in float32; larger images take float64): the same
    distances on every CPU, where int8 products are fast only with VNNI."""
    exact_dtype = torch.float32 if images[0].numel() * 2**14 <= 2**24 else torch.float64
    return images.flatten(1).mul(255).round_().sub_(128).to(exact_dtype)


def squared_distance_blocks(
    queries: torch.Tensor, references: torch.Tensor, block_bytes: int = BLOCK_BYTES,
) -> Iterator[tuple[slice, torch.Tensor]]:
    """Yield (rows, block): squared distances from those query rows to every reference. `block` is one buffer,
    overwritten at every step."""
    dtype = torch.promote_types(queries.dtype, references.dtype)
    queries, references = queries.to(dtype), references.to(dtype)
    query_norms, reference_norms = queries.square().sum(dim=1), references.square().sum(dim=1)
    rows_per_block = max(1, min(len(queries), block_bytes // (dtype.itemsize * len(references))))
    buffer = torch.empty(rows_per_block, len(references), dtype=dtype)
    for start in range(0, len(queries), rows_per_block):
        rows = slice(start, start + rows_per_block)
        chunk = queries[rows]
        block = buffer[: len(chunk)]
        # The product, then element-wise steps: a fused addmm may round differently on another CPU.
        torch.mm(chunk, references.T, out=block).mul_(-2).add_(reference_norms)  # |r|^2 - 2 q.r
        block.add_(query_norms[rows, None]).clamp_(min=0)  # + |q|^2; float rounding can dip below 0
        yield slice(start, start + len(chunk)), block


def nearest_distance(queries: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
    """Distance from each query to its nearest reference (feature rows, or grey levels from `pixel_codes`)."""
    nearest = torch.empty(len(queries))
    for rows, block in squared_distance_blocks(queries, references):
        nearest[rows] = block.amin(dim=1).float()
    return nearest.sqrt_()


def kth_neighbour_radius(points: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each point to its k-th nearest other point (k + 1 counts the point itself at 0)."""
    radius = torch.empty(len(points))
    for rows, block in squared_distance_blocks(points, points):
        radius[rows] = block.topk(k + 1, dim=1, largest=False).values[:, k]  # topk: faster than kthvalue
    return radius.sqrt_()


def precision_recall_density_coverage(
    real: torch.Tensor, fake: torch.Tensor, k: int = 5, real_radius: torch.Tensor | None = None,
) -> dict[str, float]:
    """Naeem et al. 2020, with balls reaching each point's k-th neighbour in its own set; `real_radius` may come
    precomputed (`kth_neighbour_radius(real, k)`)."""
    real_radius = kth_neighbour_radius(real, k) if real_radius is None else real_radius
    real_reach, fake_reach = real_radius.square(), kth_neighbour_radius(fake, k).square()
    in_real_ball_counts = torch.zeros(len(fake))
    real_in_fake_ball = torch.zeros(len(real), dtype=torch.bool)
    nearest_fake = torch.empty(len(real))
    for rows, block in squared_distance_blocks(real, fake):  # block: real rows x all fakes
        in_real_ball_counts += (block <= real_reach[rows, None]).sum(dim=0)
        real_in_fake_ball[rows] = (block <= fake_reach[None, :]).any(dim=1)
        nearest_fake[rows] = block.amin(dim=1)
    return {
        "precision": float((in_real_ball_counts > 0).float().mean()),
        "recall": float(real_in_fake_ball.float().mean()),
        "density": float(in_real_ball_counts.mean() / k),
        "coverage": float((nearest_fake <= real_reach).float().mean()),
    }


def memorisation(sample_to_train: torch.Tensor, test_to_train: torch.Tensor, quantile: float) -> dict[str, float]:
    """Share of samples nearer their nearest training image than the `quantile` of test images are: unseen real
    data scores `quantile`, copies near 1, noise and blur near 0."""
    threshold = torch.quantile(test_to_train, quantile)
    return {
        "memorisation_rate": float((sample_to_train < threshold).float().mean()),
        "train_distance_ratio": float(sample_to_train.median() / test_to_train.median()),
    }



def confident_calls(logits: torch.Tensor, confidence: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(call, confident) per sample: the most probable class, and whether its probability reaches `confidence`."""
    top, call = logits.float().softmax(dim=1).max(dim=1)
    return call, top >= confidence


def class_coverage(call: torch.Tensor, confident: torch.Tensor, num_classes: int) -> dict[str, float]:
    """How the confident calls spread over the classes (docs/metrics.md): collapse shows as few classes present
    and low entropy, blur and noise as a low confident share."""
    counts = torch.bincount(call[confident], minlength=num_classes).double()
    share = counts / counts.sum().clamp(min=1)
    entropy = float(torch.special.entr(share).sum())  # entr(p) = -p log p, with entr(0) = 0
    return {
        "classes_present": float((counts > 0).double().mean()),
        "class_entropy": entropy / math.log(num_classes) if num_classes > 1 else float(counts.sum() > 0),
        "confident_share": float(confident.double().mean()),
    }


def _polynomial_kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x @ y.T).div_(x.shape[1]).add_(1).pow_(3)


def _mean_off_diagonal(points: torch.Tensor) -> float:
    # Sums in float64 (a million float32 terms would lose digits), without a float64 copy of the kernel.
    kernel = _polynomial_kernel(points, points)
    total = kernel.sum(dtype=torch.float64) - kernel.diagonal().sum(dtype=torch.float64)
    return float(total) / (len(points) * (len(points) - 1))


def seeded_subsets(count: int, size: int, seed: int, subsets: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randperm(count, generator=generator)[:size] for _ in range(subsets)]


def seeded_subset(count: int, size: int, seed: int) -> torch.Tensor:
    return seeded_subsets(count, size, seed, 1)[0]


@dataclass
class KernelReference:
    """The KID's real side: the features, random subsets of their rows, each subset's mean kernel; drawn once."""

    real: torch.Tensor
    subsets: list[torch.Tensor]  # row indices into `real`
    within: list[float]
    subset_size: int

    @classmethod
    @one_thread()
    def draw(cls, real: torch.Tensor, subsets: int, subset_size: int, seed: int) -> "KernelReference":
        real = real.float()
        chosen = seeded_subsets(len(real), min(subset_size, len(real)), seed, subsets)
        return cls(real, chosen, [_mean_off_diagonal(real[index]) for index in chosen], subset_size)


@one_thread()
def kernel_distance(reference: KernelReference, fake: torch.Tensor, seed: int) -> tuple[float, float]:
    """KID (Bińkowski et al. 2018): unbiased squared MMD, mean and std over the reference's subsets, each against a
    random subset of `fake`; unbiased, so it does not grow as samples shrink (torchmetrics' takes images)."""
    size = min(reference.subset_size, len(fake))
    fake = fake.float()
    if size == len(fake):  # every subset is the whole set: one kernel against all real rows serves every subset
        fake_within = _mean_off_diagonal(fake)
        row_sums = _polynomial_kernel(reference.real, fake).sum(dim=1, dtype=torch.float64)
        values = [real_within + fake_within - 2 * float(row_sums[rows].sum()) / (len(rows) * size)
                  for rows, real_within in zip(reference.subsets, reference.within)]
        return statistics.fmean(values), statistics.pstdev(values)
    values = []
    indices = seeded_subsets(len(fake), size, seed, len(reference.subsets))
    for rows, real_within, index in zip(reference.subsets, reference.within, indices):
        subset = fake[index]
        between = float(_polynomial_kernel(reference.real[rows], subset).sum(dtype=torch.float64)) / (len(rows) * size)
        values.append(real_within + _mean_off_diagonal(subset) - 2 * between)
    return statistics.fmean(values), statistics.pstdev(values)


@torch.no_grad()
def reconstruction_errors(reconstruct, images: torch.Tensor, batch_size: int = 1000) -> dict[str, float]:
    """Per-pixel MSE and binary cross-entropy of `reconstruct(images)` against [0, 1] images."""
    squared, cross_entropy = 0.0, 0.0
    for batch in images.split(batch_size):
        output = reconstruct(batch).clamp(1e-6, 1 - 1e-6)
        squared += float(F.mse_loss(output, batch, reduction="sum"))
        cross_entropy += float(F.binary_cross_entropy(output, batch, reduction="sum"))
    return {"reconstruction_mse": squared / images.numel(), "reconstruction_bce": cross_entropy / images.numel()}


VARIANCE_FLOOR = 1e-4  # code variance below this (a hundredth of the prior's standard deviation) counts as inactive


def gaussian_kl_to_standard(codes: torch.Tensor) -> float:
    """KL(N(mean, cov) || N(0, I)) for a Gaussian fitted to codes; eigenvalues floored at VARIANCE_FLOOR, so an
    inactive dimension adds a large but finite term, not log 0."""
    mean, cov = gaussian_moments(codes)
    with one_thread():
        variances = torch.linalg.eigvalsh(cov).clamp(min=VARIANCE_FLOOR)
    return float(0.5 * ((variances - 1 - variances.log()).sum() + mean @ mean))


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
