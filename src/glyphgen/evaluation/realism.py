"""Realism as a classifier two-sample test (Lopez-Paz & Oquab 2017): a small CNN learns to tell a model's samples
from training images on one half of each and is scored on the other halves; 0.5 means it cannot tell them apart.
Unlike a judge, it learns anew what gives each model away (speckle, blur, copies seen twice)."""

from __future__ import annotations

import math
import statistics

import torch
import torch.nn.functional as F
from torch import nn

from glyphgen.evaluation.judges import at_judge_size
from glyphgen.evaluation.metrics import one_thread


LEARNING_RATE, MOMENTUM = 0.02, 0.9


def critic() -> nn.Module:
    """The two-sample classifier: two strided convolutions and a linear read-out, for 28 px images."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.LeakyReLU(0.2),    # B x 16 x 14 x 14
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.LeakyReLU(0.2),   # B x 32 x 7 x 7
        nn.Flatten(), nn.Linear(32 * 7 * 7, 1),                         # B x 1: logit of "a sample"
    )


def wilson_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    z = statistics.NormalDist().inv_cdf((1 + level) / 2)
    share = successes / trials
    centre = (share + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return centre - half, centre + half


@torch.enable_grad()
@one_thread()  # a network this small gains nothing from a second thread, and loses much on a busy machine
def two_sample_accuracy(real: torch.Tensor, fake: torch.Tensor, epochs: int, seed: int,
                        batch_size: int = 32) -> dict[str, float]:
    """Held-out accuracy, with Wilson's 0.95 interval, of a critic telling `fake` from `real` (both cut to one size)."""
    rng = torch.Generator().manual_seed(seed)
    count = min(len(real), len(fake)) // 2 * 2
    real = at_judge_size(real[torch.randperm(len(real), generator=rng)[:count]].float())
    fake = at_judge_size(fake[torch.randperm(len(fake), generator=rng)[:count]].float())
    half = count // 2
    train_images, test_images = (torch.cat([real[part], fake[part]]) for part in (slice(None, half), slice(half, None)))
    targets = torch.cat([torch.zeros(half), torch.ones(half)])
    torch.manual_seed(seed)  # the critic's initial weights
    model = critic()
    parameters = list(model.parameters())
    velocities = [torch.zeros_like(parameter) for parameter in parameters]
    model.train()
    for _ in range(epochs):
        for index in torch.randperm(len(train_images), generator=rng).split(batch_size):
            loss = F.binary_cross_entropy_with_logits(model(train_images[index]).squeeze(1), targets[index])
            # SGD by hand: the first torch.optim optimiser imports torch._dynamo, which costs more than the test.
            for parameter, velocity, grad in zip(parameters, velocities, torch.autograd.grad(loss, parameters)):
                parameter.data.sub_(velocity.mul_(MOMENTUM).add_(grad), alpha=LEARNING_RATE)
    model.eval()
    with torch.no_grad():
        said_sample = torch.cat([model(batch).squeeze(1) > 0 for batch in test_images.split(1000)])
    correct = int((said_sample == targets.bool()).sum())
    low, high = wilson_interval(correct, len(targets))
    return {"c2st_accuracy": correct / len(targets), "c2st_low": low, "c2st_high": high}
