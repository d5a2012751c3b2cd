"""The convolutional GAN networks (Radford et al. 2015) that `dcgan` and `wgan_gp` build: a generator of transposed
convs from a small dense-projected map, a stride-2 conv discriminator (or critic) ending in one dense score, and
DCGAN's N(0, 0.02) initialisation."""

from __future__ import annotations

from typing import Literal

from torch import nn
from torch.nn.utils import parametrize

from glyphgen.errors import GlyphgenError
from glyphgen.models.shared.blocks import conv_transpose, flat_size, halvings_to, same_padding


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
        stride = 2 if i < upsamplings else 1  # s -> 2s -> ... -> S
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


def conv_discriminator(image_shape: tuple[int, int, int], channels: tuple[int, ...], strides: tuple[int, ...],
                       kernel_size: int, activation_slope: float, dropout: float = 0.0, spectral_norm: bool = False,
                       layer_norm: bool = False) -> nn.Sequential:
    """Images -> one conv per entry of `channels` with its stride (LeakyReLU, dropout), then one dense score.

    `layer_norm` normalises each image's whole feature map after every conv but the first (GroupNorm with one
    group: layer norm over channels and positions), which WGAN-GP's critic may use where BatchNorm, mixing the
    images of a batch, would break its per-image gradient penalty."""
    wrap = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda layer: layer)
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out, stride) in enumerate(zip((1, *channels), channels, strides)):
        layers.append(wrap(nn.Conv2d(fan_in, fan_out, kernel_size, stride, padding=same_padding(kernel_size))))
        if layer_norm and i > 0:
            layers.append(nn.GroupNorm(1, fan_out))
        layers += [nn.LeakyReLU(activation_slope), nn.Dropout(dropout)]
    features = nn.Sequential(*layers, nn.Flatten())  # C x S/2^k x S/2^k, flattened
    return nn.Sequential(features, wrap(nn.Linear(flat_size(features, image_shape), 1)))


def dcgan_init(module: nn.Module) -> None:
    """N(0, 0.02) weights and zero biases (BatchNorm scales N(1, 0.02)); apply with `network.apply(dcgan_init)`."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        # A spectrally normalised layer keeps its raw weight under parametrizations.weight.original.
        weight = module.parametrizations.weight.original if parametrize.is_parametrized(module) else module.weight
        nn.init.normal_(weight, 0.0, 0.02)
        nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
