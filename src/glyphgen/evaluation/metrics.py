"""Sample-quality metrics on the judge's features: each a pure function of tensors, so tests can pin them down.

Features are float N x D tensors (the classifier's penultimate layer); "real" is the reference set (the test
split for a model), "fake" the samples. Distances are Euclidean. Every all-pairs search runs as one matrix
product per block of query rows, |q|^2 + |r|^2 - 2 q.r, written into one buffer reused for every block: a
fresh block per chunk cost more in page faults (system time) than in arithmetic. Comparisons use squared
distances; only the few distances returned are square-rooted.
"""

from __future__ import annotations

import contextlib
import math
import statistics
from typing import Iterator

import torch
import torch.nn.functional as F

BLOCK_BYTES = 32 * 2**20  # one distance block (float32): big enough for fast matrix products, small enough to reuse


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run small tensor operations (128 x 128 matrices) on one thread, as a `with` block or a decorator: on a
    machine shared with other jobs, OpenMP's waiting threads cost more than they share (benchmarks/RESULTS.md)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


# ----------------------------------------------------------------------------------------------------------
# Fréchet distance (FID on the judge's features) and its bootstrap interval
# ----------------------------------------------------------------------------------------------------------

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
    """|mean_a - mean_b|^2 + tr(cov_a + cov_b - 2 (cov_a cov_b)^1/2).

    tr (cov_a cov_b)^1/2 is computed as the sum of square roots of the eigenvalues of the symmetric
    cov_a^1/2 cov_b cov_a^1/2 (same eigenvalues), so a singular covariance (dead features) is no problem.
    """
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
    """Normal bootstrap interval of the Fréchet distance: the distance +- z standard deviations of its bootstrap
    resamples (z = 1.96 for a 0.95 level), resampling the fake features only.

    The real features are the test split, the same for every version of a model, so what differs between two
    evaluations is the draw of samples: the interval shows how far the FID moves with it. Not the percentile
    interval: resampled sets hold duplicates, which bias the FID upwards by about as much as a small FID's
    spread, so percentiles of near-perfect sets can lie wholly above the distance itself. The samples are
    shuffled into `blocks` groups and whole groups are resampled: for independent samples the spread is the
    same, and a resample costs blocks x D^2 multiply-adds instead of N x D^2.
    """
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


# ----------------------------------------------------------------------------------------------------------
# Nearest neighbours: precision, recall, density, coverage; memorisation
# ----------------------------------------------------------------------------------------------------------

def pixel_codes(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] images (N x ...) as rows of grey levels minus 128, for `nearest_distance`, in a float type whose
    matrix products are exact on every CPU: each product of two codes is at most 128^2 = 2^14 in size, so the
    sums of up to 1024 of them (32 x 32 px) stay integers below 2^24, exact in float32 whatever the summation
    order; larger images take float64. Exact sums make the memorisation search give the same distances on
    AVX2 and AVX-512 machines (int8 products, exact too, have a fast kernel only where the CPU has VNNI).
    Moving every pixel by -128 moves both images alike, so distances (in grey levels) do not change."""
    exact_dtype = torch.float32 if images[0].numel() * 2**14 <= 2**24 else torch.float64
    return images.flatten(1).mul(255).round_().sub_(128).to(exact_dtype)


def squared_distance_blocks(
    queries: torch.Tensor, references: torch.Tensor, block_bytes: int = BLOCK_BYTES,
) -> Iterator[tuple[slice, torch.Tensor]]:
    """Yield (rows, block): squared distances from the query rows `rows` to every reference, in the rows' float
    type (exact products for `pixel_codes`).

    `block` is one buffer overwritten at every step: use it before asking for the next.
    """
    dtype = torch.promote_types(queries.dtype, references.dtype)
    queries, references = queries.to(dtype), references.to(dtype)
    query_norms, reference_norms = queries.square().sum(dim=1), references.square().sum(dim=1)
    rows_per_block = max(1, min(len(queries), block_bytes // (dtype.itemsize * len(references))))
    buffer = torch.empty(rows_per_block, len(references), dtype=dtype)
    for start in range(0, len(queries), rows_per_block):
        rows = slice(start, start + rows_per_block)
        chunk = queries[rows]
        block = buffer[: len(chunk)]
        # The product alone, then element-wise steps: a fused addmm may round differently from one CPU to the next.
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
    """Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative Models", with k neighbours.

    Each point owns a ball reaching its k-th nearest neighbour in its own set. Precision: share of fakes inside
    some real ball. Recall: share of reals inside some fake ball. Density: real balls containing each fake,
    averaged and divided by k (about 1 for matching distributions). Coverage: share of real balls holding a fake.
    `real_radius` (from `kth_neighbour_radius(real, k)`) may be passed in when several fake sets share one real.
    """
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
    """Share of samples closer to their nearest training image than held-out test images usually are.

    Takes each sample's and each test image's distance to its nearest training image (`nearest_distance`, in
    whatever space; the scorecard passes pixels). The threshold is the `quantile` of the test distances, so
    real unseen data scores `quantile` by construction, a generator that copies training images scores near 1,
    and noise or blurry averages near 0. Also reported: median sample distance over the median test distance.
    """
    threshold = torch.quantile(test_to_train, quantile)
    return {
        "memorisation_rate": float((sample_to_train < threshold).float().mean()),
        "train_distance_ratio": float(sample_to_train.median() / test_to_train.median()),
    }


# ----------------------------------------------------------------------------------------------------------
# Classes, reconstructions and latent codes
# ----------------------------------------------------------------------------------------------------------

def class_groups(class_names: list[str]) -> torch.Tensor:
    """Each class's group: classes whose names differ only in case form one (a judge cannot be sure of o or O,
    s or S at 28 px, nor need it be: the letter is there). Kana names have no case: one group each."""
    folded = [name.casefold() for name in class_names]
    groups = list(dict.fromkeys(folded))  # in order of first appearance
    return torch.tensor([groups.index(name) for name in folded])


def confident_calls(logits: torch.Tensor, groups: torch.Tensor, confidence: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(group, confident) per sample: the most probable group, and whether its probability reaches `confidence`."""
    group_probs = torch.zeros(len(logits), int(groups.max()) + 1).index_add_(1, groups, logits.float().softmax(dim=1))
    top, group = group_probs.max(dim=1)
    return group, top >= confidence


def class_coverage(group: torch.Tensor, confident: torch.Tensor, num_groups: int) -> dict[str, float]:
    """How the confidently recognised samples spread over the classes; collapse shows as few classes present and
    low entropy, blur and noise as a low confident share.

    classes_present: share of classes (case-folded groups) confidently recognised at least once; class_entropy:
    entropy of the confident calls' class histogram over log(classes) (1 = uniform; 0 = one class or none);
    confident_share: share of samples recognised confidently.
    """
    counts = torch.bincount(group[confident], minlength=num_groups).double()
    share = counts / counts.sum().clamp(min=1)
    entropy = float(torch.special.entr(share).sum())  # entr(p) = -p log p, with entr(0) = 0
    return {
        "classes_present": float((counts > 0).double().mean()),
        "class_entropy": entropy / math.log(num_groups) if num_groups > 1 else float(counts.sum() > 0),
        "confident_share": float(confident.double().mean()),
    }


@one_thread()
def kernel_distance(
    real: torch.Tensor, fake: torch.Tensor, subsets: int, subset_size: int, generator: torch.Generator,
) -> tuple[float, float]:
    """KID (Bińkowski et al. 2018): the unbiased squared MMD with kernel (x.y / d + 1)^3, averaged over `subsets`
    random subsets of `subset_size` from each set; returns (mean, standard deviation over the subsets).

    Unbiased, so unlike the FID it does not grow as the sample count shrinks; two draws of one distribution
    score about 0, either side of it. torchmetrics' KID takes images and its own network, not features.
    """
    size = min(subset_size, len(real), len(fake))
    real, fake = real.float(), fake.float()
    dim = real.shape[1]
    values = []
    for _ in range(subsets):
        a = real[torch.randperm(len(real), generator=generator)[:size]]
        b = fake[torch.randperm(len(fake), generator=generator)[:size]]
        # Kernel values in float32, their sums in float64: a million terms would lose digits in float32.
        k_aa, k_bb, k_ab = ((x @ y.T / dim + 1).pow_(3).double() for x, y in ((a, a), (b, b), (a, b)))
        off_diagonal = size * (size - 1)
        values.append(float((k_aa.sum() - k_aa.trace() + k_bb.sum() - k_bb.trace()) / off_diagonal
                            - 2 * k_ab.mean()))
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
    """KL(N(mean, cov) || N(0, I)) for a Gaussian fitted to latent codes N x d; 0 when they match the prior.

    An inactive dimension (the same code for every image) has variance 0 and would make log det(cov) = -inf;
    eigenvalues are floored at VARIANCE_FLOOR, so each such dimension adds a large but finite
    0.5 * (VARIANCE_FLOOR - 1 - log VARIANCE_FLOOR), about 4.1 nats.
    """
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
