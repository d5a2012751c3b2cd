"""`ae`: MLP autoencoder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from torch import nn

from glyphgen.models.shared.autoencoding import Autoencoder
from glyphgen.models.shared.blocks import mlp
from glyphgen.params import check_positive


@dataclass
class AEConfig:
    hidden: tuple[int, ...] = (512, 512)
    latent_dim: int = 16
    loss: Literal["mse", "bce"] = "bce"
    mixture_components: int = 50  # 1: one Gaussian
    lr: float = 3e-3
    batch_size: int = 128

    def __post_init__(self) -> None:
        check_positive(self, "hidden", "latent_dim", "mixture_components", "lr", "batch_size")


class AE(Autoencoder):
    """A 16-d code by default: a 2-d one cannot hold ten kana apart."""

    name = "ae"
    config_class = AEConfig
    presets = {
        "default": AEConfig(),
        "reference": AEConfig(hidden=(1000, 1000), latent_dim=2, loss="mse", mixture_components=1, lr=1e-3),
        "tiny": AEConfig(hidden=(32,), latent_dim=2, mixture_components=2),  # for tests
    }

    def __init__(self, config: AEConfig, image_size: int, num_classes: int) -> None:
        super().__init__(config, image_size, num_classes)
        pixels = image_size * image_size
        self.encoder = nn.Sequential(nn.Flatten(), mlp([pixels, *config.hidden, config.latent_dim], nn.ReLU()))
        self.decoder = nn.Sequential(
            mlp([config.latent_dim, *reversed(config.hidden), pixels], nn.ReLU()), nn.Unflatten(1, self.image_shape)
        )


MODEL = AE
