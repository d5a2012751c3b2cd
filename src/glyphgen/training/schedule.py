"""Learning-rate schedules the loop applies to any model's optimisers (a run's `lr_schedule` in params.yaml).

`cosine` anneals every optimiser's learning rate from its configured value down to FLOOR times it over the
run's steps. It is stateless (the rate is a function of the step alone), so a resumed run continues the same
curve, whatever learning rates its checkpointed optimisers carried. Why decay at all: in a short run an
adversarial game that ends at full learning rate ends wherever its last oscillation left it (the aae's FID
moved between 240 and 330 from one checkpoint to the next); annealing settles it.
"""

from __future__ import annotations

import itertools
import math
from typing import Callable, Literal

import torch

LrSchedule = Literal["constant", "cosine"]
FLOOR = 0.03  # the last steps still learn a little


def learning_rates(optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, list[float]]:
    """Each optimiser's configured rates (one per parameter group), read before a checkpoint overwrites them."""
    return {name: [group["lr"] for group in optimizer.param_groups] for name, optimizer in optimizers.items()}


def cosine_factor(step: int, total_steps: int) -> float:
    """1 at step 0, FLOOR at total_steps and after, half-cosine in between."""
    progress = min(step, total_steps) / max(total_steps, 1)
    return FLOOR + (1 - FLOOR) * 0.5 * (1 + math.cos(math.pi * progress))


def with_schedule(train_step: Callable, optimizers: dict[str, torch.optim.Optimizer], base_rates: dict[str, list[float]],
                  schedule: LrSchedule, total_steps: int, done_steps: int) -> Callable:
    """`train_step` that first sets every learning rate for its step (counting on from `done_steps`)."""
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
