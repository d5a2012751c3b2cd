"""The Generator protocol every model fits, so one training loop, one evaluator and one renderer serve all.

Images cross this boundary as float tensors in [0, 1], shape B x 1 x H x W, white strokes on black. A model
that prefers [-1, 1] (tanh outputs) converts inside. Models know nothing of files, DVC or params.yaml beyond
the config dataclass they are built from.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import torch
from torch import nn


class Generator(nn.Module, abc.ABC):
    name: ClassVar[str]
    config_class: ClassVar[type]  # a dataclass of hyperparameters (always with a batch_size), parsed from params.yaml
    presets: ClassVar[dict[str, Any]]  # named configs: "default" (sized for a CPU) and "reference" (the recipe)
    has_encoder: ClassVar[bool] = False

    def __init__(self, config: Any, image_size: int, num_classes: int) -> None:
        super().__init__()
        self.config = config
        self.image_size = image_size
        self.num_classes = num_classes

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (1, self.image_size, self.image_size)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @abc.abstractmethod
    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """One optimiser per independently updated part (e.g. 'generator', 'discriminator')."""

    @abc.abstractmethod
    def train_step(
        self, images: torch.Tensor, labels: torch.Tensor, optimizers: dict[str, torch.optim.Optimizer]
    ) -> dict[str, torch.Tensor]:
        """Update the weights on one batch; return detached scalar losses, always including 'loss'."""

    @abc.abstractmethod
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw n images in [0, 1], N x 1 x H x W, from the model's prior, reproducibly under `generator`."""

    @property
    def latent_dim(self) -> int:
        raise NotImplementedError(f"{self.name} has no latent space")

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """The deterministic code of each image (the posterior mean for VAEs)."""
        raise NotImplementedError(f"{self.name} has no encoder")

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] from latent codes."""
        raise NotImplementedError(f"{self.name} has no decoder")

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(images))
