"""The Generator protocol every model fits, so one training loop, evaluator and renderer serve all. Images cross
it as floats in [0, 1], B x 1 x H x W, white on black; models know nothing of files, DVC or params.yaml."""

from __future__ import annotations

import abc
import dataclasses
import itertools
from typing import Any, ClassVar, Iterable

import torch
from torch import nn

from glyphgen.errors import GlyphgenError
from glyphgen.params import parse_config


class Generator(nn.Module, abc.ABC):
    name: ClassVar[str]
    config_class: ClassVar[type]  # a dataclass of hyperparameters, always with a batch_size
    presets: ClassVar[dict[str, Any]]  # "default" (sized for a CPU) and "reference" (the recipe)
    has_encoder: ClassVar[bool] = False
    conditional: ClassVar[bool] = False  # has `sample_categories`
    categorical_head: ClassVar[str] = ""  # what `classify` predicts: "classes", "clusters" or nothing

    def __init__(self, config: Any, image_size: int, num_classes: int) -> None:
        super().__init__()
        self.config = config
        self.image_size = image_size
        self.num_classes = num_classes
        self.class_names = [str(label) for label in range(num_classes)]  # the training loop sets the data set's

    @classmethod
    def config_from_params(cls, preset: str, overrides: dict[str, Any], where: str) -> Any:
        if preset not in cls.presets:
            raise GlyphgenError(f"{where}.preset: expected one of {sorted(cls.presets)}, got {preset!r}")
        return parse_config(cls.config_class, {**dataclasses.asdict(cls.presets[preset]), **overrides}, where)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (1, self.image_size, self.image_size)

    @property
    def device(self) -> torch.device:
        weights = next(itertools.chain(self.parameters(), self.buffers()), None)
        return torch.device("cpu") if weights is None else weights.device

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

    def start_training(self, images: torch.Tensor, labels: torch.Tensor, seed: int) -> None:
        """Before the first step and on resuming, with the uint8 training set on the device (aae_semi picks its
        labelled subset). No global RNG, so resumed runs stay exact."""

    def observe_losses(self, losses: dict[str, float]) -> None:
        """Mean losses since the last read-back, so a model adapts (the GANs' balance) without a host sync."""

    def finish_training(self, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], seed: int) -> None:
        """After the last epoch, in eval mode: fit what the model samples from (the autoencoders' code mixtures)."""

    @torch.no_grad()
    def draw(self, n: int, seed: int) -> torch.Tensor:
        was_training = self.training
        self.eval()
        images = self.sample(n, torch.Generator(self.device).manual_seed(seed)).float()
        self.train(was_training)
        return images

    @property
    def latent_dim(self) -> int:
        raise NotImplementedError(f"{self.name} has no latent space")

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{self.name} has no encoder")

    def encode_sample(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """A code drawn from q(z|x), so many images' codes sample the aggregate posterior."""
        posterior = getattr(self, "posterior", None)
        if posterior is None:
            return self.encode(images)
        mean, log_var = posterior(images)
        noise = torch.randn(mean.shape, generator=generator, dtype=mean.dtype).to(mean.device)
        return mean + (0.5 * log_var).exp() * noise

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{self.name} has no decoder")

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(images))
