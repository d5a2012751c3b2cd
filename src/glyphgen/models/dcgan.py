"""`dcgan`: convolutional GAN (Radford et al. 2015)."""

from __future__ import annotations

from dataclasses import dataclass

from glyphgen.models.shared.conv_gan import ConvGAN, ConvGANConfig


@dataclass
class DCGANConfig(ConvGANConfig):
    spectral_norm: bool = True
    conditional: bool = True


class DCGAN(ConvGAN):
    """Convolutional GAN; the `reference` preset is the full recipe (5x5 kernels, 256-128-64-32 generator with
    upsampling, 64-128-256-512 discriminator, dropout 0.4, LeakyReLU 0.01).

    Default vs reference, sized for a CPU (the recipe makes only a few steps in the same time): stride-2 4x4
    transposed convs from a 7x7 (28) or 8x8 (32) map with a 64-32-16 generator; a 16-32-64 stride-2
    discriminator with spectral norm, which keeps the small discriminator from drowning the generator in
    speckle; LeakyReLU 0.2, no dropout, N(0, 0.02) init, label smoothing, Adam lr 2e-4 beta1 0.5, batch 32
    (more updates per CPU second), and samples from an average of the generator's weights. It is
    class-conditional (shared/adversarial.py: class batch norm in the generator, a projection discriminator):
    the class settles what to draw, so a short run spends its steps on the strokes, and every class is drawn
    (`sample` draws the classes uniformly; `python -m glyphgen sample ... --label A` draws one).
    """

    name = "dcgan"
    config_class = DCGANConfig
    presets = {
        "default": DCGANConfig(),
        "reference": DCGANConfig(
            generator_channels=(256, 128, 64, 32), upsamplings=2, upsample="nearest",
            discriminator_channels=(64, 128, 256, 512),
            discriminator_strides=(2, 2, 2, 1), kernel_size=5, activation_slope=0.01, dropout=0.4,
            spectral_norm=False, dcgan_init=False, real_label=1.0, lr=2e-4, discriminator_lr_ratio=1.0,
            ema_decay=0.0, batch_size=128, conditional=False,
        ),
    }


MODEL = DCGAN
