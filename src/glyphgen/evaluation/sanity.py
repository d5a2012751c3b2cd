"""The metrics' own test: real test images degraded in known ways, three severities each. A metric that cannot
order known degradations cannot order models: the report ranks only by metrics that pass (docs/metrics.md)."""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from glyphgen.evaluation import metrics
from glyphgen.evaluation.judges import predict
from glyphgen.evaluation.realism import two_sample_accuracy
from glyphgen.evaluation.scorecard import kernel_reference

SEVERITIES = (1, 2, 3)
REAL = "real"


def _gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, math.ceil(3 * sigma))
    taps = torch.exp(-torch.arange(-radius, radius + 1, dtype=torch.float32).square() / (2 * sigma * sigma))
    taps = taps / taps.sum()
    padded = F.pad(images, (radius, radius, radius, radius), mode="replicate")
    rows = F.conv2d(padded, taps.view(1, 1, 1, -1))
    return F.conv2d(rows, taps.view(1, 1, -1, 1))


def _morphology(images: torch.Tensor, width: int, thicker: bool) -> torch.Tensor:
    """Grey-level dilation (thicker) or erosion by a `width`-pixel square: strokes change by width - 1 pixels."""
    before, after = (width - 1) // 2, width // 2
    padded = F.pad(images if thicker else -images, (before, after, before, after), value=0 if thicker else -1)
    moved = F.max_pool2d(padded, width, stride=1)
    return moved if thicker else -moved


def _scaled(pixels: float, images: torch.Tensor) -> float:
    return pixels * images.shape[-1] / 28


def blur(images, labels, train_images, severity, rng):
    return _gaussian_blur(images, _scaled((0.7, 1.2, 1.8)[severity - 1], images))


def speckle(images, labels, train_images, severity, rng):
    """Salt and pepper: a share of the pixels set to black or white at random."""
    share = (0.02, 0.05, 0.12)[severity - 1]
    hit = torch.rand(images.shape, generator=rng) < share
    salt = (torch.rand(images.shape, generator=rng) < 0.5).float()
    return torch.where(hit, salt, images)


def noise(images, labels, train_images, severity, rng):
    return (images + (0.1, 0.2, 0.35)[severity - 1] * torch.randn(images.shape, generator=rng)).clamp(0, 1)


def thinner(images, labels, train_images, severity, rng):
    """Strokes 1, 2 and 3 pixels (at 28 px) thinner; at 28 px they are two to four pixels wide."""
    return _morphology(images, round(_scaled(severity, images)) + 1, thicker=False)


def thicker(images, labels, train_images, severity, rng):
    return _morphology(images, round(_scaled(severity, images)) + 1, thicker=True)


def dropped_classes(images, labels, train_images, severity, rng):
    """Only k of the C classes kept (k = 3/4, 1/2, 1/4 of C), as many images drawn from them."""
    classes = int(labels.max()) + 1
    kept = torch.randperm(classes, generator=rng)[: max(1, round(classes * (4 - severity) / 4))]
    pool = torch.nonzero(torch.isin(labels, kept)).squeeze(1)
    return images[pool[torch.randint(len(pool), (len(images),), generator=rng)]]


def training_copies(images, labels, train_images, severity, rng):
    """Copies of training images: as many images drawn from only N/4, N/16, N/64 distinct ones."""
    distinct = torch.randperm(len(train_images), generator=rng)[: max(1, len(images) // 4 ** severity)]
    return train_images[distinct[torch.randint(len(distinct), (len(images),), generator=rng)]]


Degradation = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, int, torch.Generator], torch.Tensor]
DEGRADATIONS: dict[str, Degradation] = {
    "blur": blur, "speckle": speckle, "noise": noise, "thinner": thinner, "thicker": thicker,
    "dropped_classes": dropped_classes, "training_copies": training_copies,
}
# Lower is better for every headline metric; the two-sample accuracy saturates at its worst, 1.
SATURATES_AT = {"c2st_accuracy": 1.0}


def headline_scores(panel, images: torch.Tensor, real_features: dict[str, torch.Tensor],
                    kernel_references: dict[str, metrics.KernelReference], real_images: torch.Tensor,
                    config) -> dict[str, float]:
    """The metrics that may order the leaderboard: `<judge>.fid`, `<judge>.kid` and `c2st_accuracy`."""
    scores = {}
    for name, judge in panel.judges.items():
        features = predict(judge, images, config.batch_size)[0]
        scores[f"{name}.fid"] = metrics.frechet_distance(real_features[name], features)
        scores[f"{name}.kid"] = metrics.kernel_distance(kernel_references[name], features, config.seed + 1)[0]
    scores["c2st_accuracy"] = two_sample_accuracy(real_images, images, config.two_sample_epochs,
                                                  config.seed)["c2st_accuracy"]
    return scores


def degraded_scores(panel, splits, config) -> dict[str, dict[str, float]]:
    """Headline scores of real test images ("real") and of their degradations ("<degradation>@<severity>"). One
    half of the test split is the judges' reference, the other is degraded, as a model's samples would be."""
    rng = torch.Generator().manual_seed(config.seed)
    order = torch.randperm(len(splits.test_images), generator=rng)
    count = min(config.sanity_images, len(order) // 2)
    reference, source = order[: len(order) // 2], order[len(order) // 2 :][:count]
    images, labels = splits.test_images[source], torch.from_numpy(splits.test_labels)[source]
    real_images = splits.train_images[torch.randperm(len(splits.train_images), generator=rng)[:count]]
    real_features = {name: features.test[reference] for name, features in panel.features.items()}
    kernels = {name: kernel_reference(features, config) for name, features in real_features.items()}
    rows = {REAL: headline_scores(panel, images, real_features, kernels, real_images, config)}
    for name, degrade in DEGRADATIONS.items():
        for severity in SEVERITIES:
            degraded = degrade(images, labels, splits.train_images, severity, rng).clamp(0, 1)
            rows[f"{name}@{severity}"] = headline_scores(panel, degraded, real_features, kernels, real_images, config)
    return rows


def is_monotone(values: list[float], saturates_at: float | None = None) -> bool:
    """Whether real < severity 1 < 2 < 3 (lower is better); a metric at its worst bound may stay there."""
    def saturated(value: float) -> bool:
        return saturates_at is not None and value >= saturates_at - 0.01
    return all(later > earlier or (saturated(later) and saturated(earlier))
               for earlier, later in zip(values, values[1:]))


def check(rows: dict[str, dict[str, float]]) -> dict[str, dict[str, bool]]:
    """metric -> degradation -> passes (worsens at every severity, every severity worse than the real row)."""
    return {
        metric: {name: is_monotone([rows[REAL][metric], *(rows[f"{name}@{s}"][metric] for s in SEVERITIES)],
                                   SATURATES_AT.get(metric))
                 for name in DEGRADATIONS}
        for metric in rows[REAL]
    }
