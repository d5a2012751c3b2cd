"""`gan`: MLP GAN (Goodfellow et al. 2014)."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from glyphgen.models.shared.adversarial import AdversarialGenerator
from glyphgen.models.shared.balance import BalanceConfig
from glyphgen.models.shared.blocks import mlp
from glyphgen.params import check_fraction, check_non_negative, check_positive


@dataclass
class GANConfig:
    latent_dim: int = 100
    hidden: tuple[int, ...] = (256, 512)  # generator widths; the discriminator uses them reversed
    batch_norm: bool = True  # in the generator's hidden layers
    activation_slope: float = 0.2
    dropout: float = 0.3  # in the discriminator
    real_label: float = 0.9
    lr: float = 3e-4  # the generator's; the discriminator's is lr x discriminator_lr_ratio
    discriminator_lr_ratio: float = 1.0
    beta1: float = 0.5
    beta2: float = 0.999
    ema_decay: float = 0.995  # 0 = sample from the trained generator, not an average
    batch_size: int = 64
    balance: BalanceConfig = field(default_factory=BalanceConfig)  # extra generator steps while D is ahead

    def __post_init__(self) -> None:
        check_positive(self, "latent_dim", "hidden", "real_label", "lr", "discriminator_lr_ratio", "batch_size")
        check_non_negative(self, "activation_slope")
        check_fraction(self, "dropout", "beta1", "beta2", "ema_decay")


class GAN(AdversarialGenerator):
    """Generator z -> hidden widths (BatchNorm + LeakyReLU) -> pixels (tanh); discriminator pixels -> reversed widths
    (LeakyReLU + dropout) -> 1 logit.

    Default vs reference (one 128 layer, LeakyReLU 0.01, lr 1e-3, batch 128): two layers 256-512 (mirrored in
    the discriminator) with BatchNorm in the generator, LeakyReLU 0.2, dropout 0.3 in the discriminator,
    one-sided label smoothing (real 0.9), Adam lr 3e-4 beta1 0.5, batch 64, and samples drawn from an average
    of the generator's weights (ema_decay 0.995). Measured by eye on KMNIST at about 60 s of CPU: batch 32 at
    lr 2e-4 (3750 steps) drew speckled, character-sized blots; averaging the weights turns the speckle into
    strokes; batch 64 at lr 3e-4 (2811 steps) then draws recognisable kana on black. Batch 128 (1872 steps),
    a 256-512-1024 generator, a discriminator twice as fast, or no dropout were all worse at equal time. On
    glyphs at 64 x 64 batch 32, lr 2e-4 and no averaging worked better: there the larger batch collapsed
    to O, I, 8 on grey and the average blurred the letters; at 32 x 32 (the glyphs' default size now) the
    KMNIST settings serve both data sets. Measured by benchmarks/quality_vs_time.py on KMNIST (CPU seconds of
    one thread; FID, class entropy on 10,000 samples): default 421.6 / 0.784 at 30 s, 315.7 / 0.906 at 60 s,
    219.5 / 0.968 at 120 s; reference 471.6 / 0.587, 346.1 / 0.908, 276.6 / 0.947.
    """

    name = "gan"
    config_class = GANConfig
    presets = {
        "default": GANConfig(),
        "reference": GANConfig(hidden=(128,), batch_norm=False, activation_slope=0.01, dropout=0.0, real_label=1.0,
                               lr=1e-3, beta1=0.9, ema_decay=0.0, batch_size=128),
    }

    def build_generator(self) -> nn.Module:
        config = self.config
        return nn.Sequential(
            mlp([config.latent_dim, *config.hidden, self.image_size**2], nn.LeakyReLU(config.activation_slope),
                nn.Tanh(), config.batch_norm),
            nn.Unflatten(1, self.image_shape),
        )

    def build_discriminator(self) -> nn.Module:
        config = self.config
        activation = nn.Sequential(nn.LeakyReLU(config.activation_slope), nn.Dropout(config.dropout))
        return nn.Sequential(nn.Flatten(), mlp([self.image_size**2, *reversed(config.hidden), 1], activation))


MODEL = GAN
