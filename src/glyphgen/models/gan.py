"""`gan`: MLP GAN (Goodfellow et al. 2014)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from glyphgen.models.shared.adversarial import AdversarialConfig, AdversarialGenerator
from glyphgen.models.shared.blocks import mlp
from glyphgen.params import check_fraction, check_non_negative, check_positive


@dataclass
class GANConfig(AdversarialConfig):
    hidden: tuple[int, ...] = (256, 512)  # generator widths; the discriminator uses them reversed
    batch_norm: bool = True  # in the generator's hidden layers
    activation_slope: float = 0.2
    dropout: float = 0.3  # in the discriminator
    lr: float = 3e-4
    batch_size: int = 64
    conditional: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive(self, "hidden")
        check_non_negative(self, "activation_slope")
        check_fraction(self, "dropout")


class GAN(AdversarialGenerator):
    """Generator z -> hidden widths (BatchNorm + LeakyReLU) -> pixels (tanh); discriminator pixels -> reversed widths
    (LeakyReLU + dropout) -> 1 logit.

    Default vs reference (one 128 layer, LeakyReLU 0.01, lr 1e-3, batch 128): two layers 256-512 (mirrored in
    the discriminator) with BatchNorm in the generator, LeakyReLU 0.2, dropout 0.3 in the discriminator,
    one-sided label smoothing, Adam lr 3e-4 beta1 0.5, batch 64, and samples drawn from an average of the
    generator's weights: a wider network learns strokes in a short run, and the average removes the speckle
    that the chase of a moving discriminator leaves in the latest weights. It is class-conditional
    (`conditional`, see shared/adversarial.py): told which letter to draw, a short run draws every letter
    rather than the few easiest, and `sample` draws the classes uniformly.
    """

    name = "gan"
    config_class = GANConfig
    presets = {
        "default": GANConfig(),
        "reference": GANConfig(hidden=(128,), batch_norm=False, activation_slope=0.01, dropout=0.0, real_label=1.0,
                               lr=1e-3, beta1=0.9, ema_decay=0.0, batch_size=128, conditional=False),
    }

    def build_generator(self, input_dim: int) -> nn.Module:
        config = self.config
        return nn.Sequential(
            mlp([input_dim, *config.hidden, self.image_size**2], nn.LeakyReLU(config.activation_slope), nn.Tanh(),
                config.batch_norm),
            nn.Unflatten(1, self.image_shape),
        )

    def build_discriminator(self) -> nn.Module:
        config = self.config
        activation = nn.Sequential(nn.LeakyReLU(config.activation_slope), nn.Dropout(config.dropout))
        return nn.Sequential(nn.Flatten(), mlp([self.image_size**2, *reversed(config.hidden)], activation, activation))


MODEL = GAN
