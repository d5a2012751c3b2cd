"""The convolutional GAN networks (Radford et al. 2015) that `dcgan` and `wgan_gp` build: a generator of transposed
convs (or nearest upsampling and convs) from a small dense-projected map, the stride-2 conv features of a
discriminator (or critic), and DCGAN's N(0, 0.02) initialisation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from torch import nn
from torch.nn.utils import parametrize

from glyphgen.errors import GlyphgenError
from glyphgen.models.shared.adversarial import AdversarialConfig, AdversarialGenerator
from glyphgen.models.shared.blocks import conv_transpose, halvings_to, same_padding
from glyphgen.params import check_fraction, check_non_negative, check_positive


@dataclass
class ConvGANConfig(AdversarialConfig):
    # Generator: a dense projection to generator_channels[0] x s x s, then transposed convs through the
    # further widths and down to 1 channel (tanh); the first `upsamplings` of them double the side, from
    # s = S / 2^upsamplings. 0 = as many as keep s >= 7 (28: 7 x 7 after 2, 32: 8 x 8 after 2).
    generator_channels: tuple[int, ...] = (64, 32, 16)
    upsamplings: int = 0
    upsample: Literal["stride", "nearest"] = "stride"  # stride-2 transposed convs, or nearest upsampling + stride 1
    # Discriminator: one conv per entry with the given stride, then a dense score.
    discriminator_channels: tuple[int, ...] = (16, 32, 64)
    discriminator_strides: tuple[int, ...] = (2, 2, 2)
    layer_norm: bool = False  # layer norm after the discriminator's convs (WGAN-GP's drop-in for BatchNorm)
    kernel_size: int = 4
    activation_slope: float = 0.2
    dropout: float = 0.0  # after the generator's projection and each discriminator conv
    dcgan_init: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive(self, "generator_channels", "discriminator_channels", "discriminator_strides", "kernel_size")
        check_non_negative(self, "upsamplings", "activation_slope")
        check_fraction(self, "dropout")


class ConvGAN(AdversarialGenerator):
    """The networks of `dcgan` and `wgan_gp`, built from a ConvGANConfig."""

    def build_generator(self, input_dim: int) -> nn.Module:
        config = self.config
        return self.initialised(conv_generator(
            self.name, input_dim, self.image_size, config.generator_channels, config.upsamplings, config.upsample,
            config.kernel_size, config.activation_slope, config.dropout))

    def build_discriminator(self) -> nn.Module:
        config = self.config
        return conv_discriminator(config.discriminator_channels, config.discriminator_strides, config.kernel_size,
                                  config.activation_slope, config.dropout, config.layer_norm)

    def initialised(self, network: nn.Module) -> nn.Module:
        if self.config.dcgan_init:
            network.apply(dcgan_init)
        return network


def conv_generator(name: str, latent_dim: int, image_size: int, channels: tuple[int, ...], upsamplings: int,
                   upsample: Literal["stride", "nearest"], kernel_size: int, activation_slope: float,
                   dropout: float) -> nn.Sequential:
    """z -> a dense projection to channels[0] x s x s, then one transposed conv per further width and one down to
    1 channel (tanh). The first `upsamplings` of them double the side, from s = S / 2^upsamplings (0 = as many as
    keep s >= 7: 28 -> 7 x 7 after 2, 64 -> 8 x 8 after 3): stride-2 transposed convs, or nearest upsampling
    and stride 1. `name` is the model's, for the error an impossible size raises."""
    upsamplings = upsamplings or halvings_to(image_size, smallest=7)
    if upsamplings == 0:  # an odd side: no doubling reaches it
        raise GlyphgenError(f"{name}: stride-2 upsampling needs an even image side, got {image_size}")
    if len(channels) < upsamplings or image_size % 2**upsamplings:
        raise GlyphgenError(f"generator_channels: expected at least {upsamplings} widths and an image side "
                            f"divisible by {2**upsamplings}, got {channels} and {image_size}")
    side = image_size // 2**upsamplings
    first = channels[0]
    layers: list[nn.Module] = [
        nn.Linear(latent_dim, first * side * side),  # z -> C0 x s x s
        nn.Unflatten(1, (first, side, side)),
        nn.BatchNorm2d(first),
        nn.LeakyReLU(activation_slope),
        nn.Dropout(dropout),
    ]
    widths = (*channels, 1)
    for i, (fan_in, fan_out) in enumerate(zip(widths, widths[1:])):
        stride = 2 if i < upsamplings else 1  # the side doubles up to the image size
        if stride == 2 and upsample == "nearest":
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            stride = 1
        # 'Same' padding at stride 1 needs an odd kernel, so an even one grows by 1 there (4 -> 5).
        layer_kernel = kernel_size if stride == 2 else kernel_size | 1
        layers.append(conv_transpose(fan_in, fan_out, layer_kernel, stride))
        if fan_out == 1:
            layers.append(nn.Tanh())
        else:
            layers += [nn.BatchNorm2d(fan_out), nn.LeakyReLU(activation_slope)]
    return nn.Sequential(*layers)


def conv_discriminator(channels: tuple[int, ...], strides: tuple[int, ...], kernel_size: int,
                       activation_slope: float, dropout: float = 0.0, layer_norm: bool = False) -> nn.Sequential:
    """Images -> one conv per entry of `channels` with its stride (LeakyReLU, dropout) -> flattened features, which
    the discriminator's score reads (adversarial.Discriminator).

    `layer_norm` normalises each image's whole feature map after every conv but the first (GroupNorm with one
    group: layer norm over channels and positions), which WGAN-GP's critic may use where BatchNorm, mixing the
    images of a batch, would break its per-image gradient penalty."""
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out, stride) in enumerate(zip((1, *channels), channels, strides)):
        layers.append(nn.Conv2d(fan_in, fan_out, kernel_size, stride, padding=same_padding(kernel_size)))
        if layer_norm and i > 0:
            layers.append(nn.GroupNorm(1, fan_out))
        layers += [nn.LeakyReLU(activation_slope), nn.Dropout(dropout)]
    return nn.Sequential(*layers, nn.Flatten())  # C x S/2^k x S/2^k, flattened


def dcgan_init(module: nn.Module) -> None:
    """N(0, 0.02) weights and zero biases (BatchNorm scales N(1, 0.02)); apply with `network.apply(dcgan_init)`."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
        # A spectrally normalised layer keeps its raw weight under parametrizations.weight.original.
        weight = module.parametrizations.weight.original if parametrize.is_parametrized(module) else module.weight
        nn.init.normal_(weight, 0.0, 0.02)
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
