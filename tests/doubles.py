"""Test doubles of the Generator protocol: simple, fully known behaviours the metrics must tell apart."""

from __future__ import annotations

import torch

from glyphgen.models.shared.base import Generator


class _Untrainable(Generator):
    """Shared stubs: these doubles are built, not trained."""

    def __init__(self, image_size: int, num_classes: int) -> None:
        super().__init__(config=None, image_size=image_size, num_classes=num_classes)
        self.register_buffer("_anchor", torch.zeros(()))

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {}

    def train_step(self, images, labels, optimizers):
        raise NotImplementedError("test doubles are not trained")


class NoisyCopies(_Untrainable):
    """Returns training images with Gaussian pixel noise: memorises, and looks real when the noise is small."""

    name = "noisy_copies"

    def __init__(self, images: torch.Tensor, noise_std: float, num_classes: int = 10) -> None:
        super().__init__(images.shape[-1], num_classes)
        self.images, self.noise_std = images, noise_std

    def sample(self, n, generator=None):
        index = torch.randint(len(self.images), (n,), generator=generator)
        noise = torch.randn((n, *self.images.shape[1:]), generator=generator)
        return (self.images[index] + self.noise_std * noise).clamp(0, 1)


class RepeatedImage(_Untrainable):
    """Mode collapse in its purest form: the same image every time."""

    name = "repeated_image"

    def __init__(self, image: torch.Tensor, num_classes: int = 10) -> None:
        super().__init__(image.shape[-1], num_classes)
        self.image = image

    def sample(self, n, generator=None):
        return self.image.expand(n, *self.image.shape).clone()


class PCAAutoencoder(_Untrainable):
    """A linear autoencoder (principal components of the training images) with a Gaussian prior on its codes."""

    name = "pca_autoencoder"
    has_encoder = True

    def __init__(self, images: torch.Tensor, latent_dim: int = 2, num_classes: int = 10) -> None:
        super().__init__(images.shape[-1], num_classes)
        flat = images.flatten(1)
        self.mean = flat.mean(dim=0)
        _, _, components = torch.pca_lowrank(flat - self.mean, q=latent_dim, center=False)
        self.components = components  # pixels x latent_dim
        self.scale = ((flat - self.mean) @ components).std(dim=0)  # so codes are about N(0, I)

    @property
    def latent_dim(self) -> int:
        return self.components.shape[1]

    def encode(self, images):
        return (images.flatten(1) - self.mean) @ self.components / self.scale

    def decode(self, codes):
        flat = self.mean + (codes * self.scale) @ self.components.T
        return flat.clamp(0, 1).reshape(len(codes), *self.image_shape)

    def sample(self, n, generator=None):
        return self.decode(torch.randn((n, self.latent_dim), generator=generator))
