"""The Generator protocol every model fits, so one training loop, one evaluator and one renderer serve all.

Images cross this boundary as float tensors in [0, 1], shape B x 1 x H x W, white strokes on black. A model
that prefers [-1, 1] (tanh outputs) converts inside. Models know nothing of files, DVC or params.yaml beyond
the config dataclass they are built from.
"""

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
    config_class: ClassVar[type]  # a dataclass of hyperparameters (always with a batch_size), parsed from params.yaml
    presets: ClassVar[dict[str, Any]]  # named configs: "default" (sized for a CPU) and "reference" (the recipe)
    has_encoder: ClassVar[bool] = False
    # Draws images of a chosen class (`sample_categories`): the sample command's --label, the alphabet command.
    conditional: ClassVar[bool] = False
    # What `classify` (a categorical code's logits) predicts: "classes" (the data set's, as aae_semi learns them)
    # or "clusters" (unlabelled, aae_cluster); "" for models without one. The evaluate stage scores it.
    categorical_head: ClassVar[str] = ""

    def __init__(self, config: Any, image_size: int, num_classes: int) -> None:
        super().__init__()
        self.config = config
        self.image_size = image_size
        self.num_classes = num_classes
        self.class_names = [str(label) for label in range(num_classes)]  # the training loop sets the data set's

    @classmethod
    def config_from_params(cls, preset: str, overrides: dict[str, Any], where: str) -> Any:
        """The named preset with per-key overrides from params.yaml, each key type-checked."""
        if preset not in cls.presets:
            raise GlyphgenError(f"{where}.preset: expected one of {sorted(cls.presets)}, got {preset!r}")
        return parse_config(cls.config_class, {**dataclasses.asdict(cls.presets[preset]), **overrides}, where)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (1, self.image_size, self.image_size)

    @property
    def device(self) -> torch.device:
        """Where the weights are; the CPU for a model without any (the test doubles)."""
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
        """Called before the first step (and on resuming) with the whole training set on the device (uint8
        N x 1 x H x W, int64 labels): where a model picks what it trains on besides the batches (aae_semi's
        labelled subset). It must not draw from the global RNG, so resumed runs stay exact."""

    def observe_losses(self, losses: dict[str, float]) -> None:
        """Called by the loop with the losses it read back (means since the last read-back, every
        `train.log_every` steps): where a model adapts its schedule without a host sync of its own (the GANs'
        balance). Most models have nothing to do."""

    def finish_training(self, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], seed: int) -> None:
        """Called once after the last epoch, in eval mode, with batches of training images ([0, 1]) and their
        labels: where a model fits what it samples from (the autoencoders' code mixtures). Most models have
        nothing to do."""

    @torch.no_grad()
    def draw(self, n: int, seed: int) -> torch.Tensor:
        """`sample` in eval mode (BatchNorm running statistics), the same n images for the same seed."""
        was_training = self.training
        self.eval()
        images = self.sample(n, torch.Generator(self.device).manual_seed(seed)).float()
        self.train(was_training)
        return images

    @property
    def latent_dim(self) -> int:
        raise NotImplementedError(f"{self.name} has no latent space")

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """The deterministic code of each image (the posterior mean for VAEs)."""
        raise NotImplementedError(f"{self.name} has no encoder")

    def encode_sample(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """A code drawn from q(z|x) for each image, so codes of many images sample the aggregate posterior.

        Models with a Gaussian posterior (a `posterior(images)` method returning mean and log-variance, as
        vae and aae have) draw from it; deterministic encoders return `encode(images)`."""
        posterior = getattr(self, "posterior", None)
        if posterior is None:
            return self.encode(images)
        mean, log_var = posterior(images)
        noise = torch.randn(mean.shape, generator=generator, dtype=mean.dtype).to(mean.device)
        return mean + (0.5 * log_var).exp() * noise

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] from latent codes."""
        raise NotImplementedError(f"{self.name} has no decoder")

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(images))
