"""`ae`: MLP autoencoder; samples decode draws from a Gaussian mixture fitted to its training codes."""

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
    mixture_components: int = 50  # of the Gaussian mixture fitted to the codes after training; 1 = one Gaussian
    lr: float = 3e-3
    batch_size: int = 128

    def __post_init__(self) -> None:
        check_positive(self, "hidden", "latent_dim", "mixture_components", "lr", "batch_size")


class AE(Autoencoder):
    """MLP autoencoder: pixels -> hidden (ReLU) -> z -> hidden (ReLU) -> pixels (sigmoid).

    Defaults: a 16-d code (a 2-d one cannot hold ten kana apart) and samples from a mixture fitted to the codes,
    since one Gaussian over clustered codes draws blends between them (benchmarks/quality_vs_time.md).
    """

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
