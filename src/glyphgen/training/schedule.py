"""Learning-rate schedules for any model's optimisers. A short adversarial game ending at full rate ends wherever
its last oscillation left it; annealing settles it. The rate is a function of the step alone, so resuming is exact."""

from __future__ import annotations

import itertools
import math
from typing import Callable, Literal

import torch

LrSchedule = Literal["constant", "cosine"]
FLOOR = 0.03  # the last steps still learn a little


def learning_rates(optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, list[float]]:
    """Read before a checkpoint overwrites them."""
    return {name: [group["lr"] for group in optimizer.param_groups] for name, optimizer in optimizers.items()}


def cosine_factor(step: int, total_steps: int) -> float:
    progress = min(step, total_steps) / max(total_steps, 1)
    return FLOOR + (1 - FLOOR) * 0.5 * (1 + math.cos(math.pi * progress))


def with_schedule(train_step: Callable, optimizers: dict[str, torch.optim.Optimizer], base_rates: dict[str, list[float]],
                  schedule: LrSchedule, total_steps: int, done_steps: int) -> Callable:
    if schedule == "constant":
        return train_step
    steps = itertools.count(done_steps)

    def scheduled_step(images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        factor = cosine_factor(next(steps), total_steps)
        for name, optimizer in optimizers.items():
            for group, rate in zip(optimizer.param_groups, base_rates[name]):
                group["lr"] = rate * factor
        return train_step(images, labels)

    return scheduled_step
