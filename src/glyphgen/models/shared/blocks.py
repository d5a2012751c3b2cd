"""Building blocks written once and shared by every generator: layer stacks, the VAE maths, GAN losses.

Sizes derive from `image_size` (28 for KMNIST, 64 for glyphs), never from a hard-coded 784. Conv stacks
halve the side with each stride-2 layer, so `image_size` must be divisible by 4 for two of them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def mlp(sizes: list[int], activation: nn.Module, output: nn.Module | None = None,
        batch_norm: bool = False) -> nn.Sequential:
    """Linear layers sizes[0] -> ... -> sizes[-1], `activation` (after BatchNorm if asked) between them and
    `output` after the last."""
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers += [nn.BatchNorm1d(fan_out), activation] if batch_norm else [activation]
        else:
            layers.append(output or nn.Identity())
    return nn.Sequential(*layers)


def halvings_to(side: int, smallest: int) -> int:
    """How many times `side` halves exactly while staying at least `smallest`."""
    count = 0
    while side % 2 == 0 and side // 2 >= smallest:
        side, count = side // 2, count + 1
    return count


def same_padding(kernel_size: int) -> int:
    return (kernel_size - 1) // 2


def conv_transpose(in_channels: int, out_channels: int, kernel_size: int, stride: int) -> nn.ConvTranspose2d:
    """A transposed conv that multiplies the side by exactly `stride` for any kernel size ('same' padding)."""
    padding = same_padding(kernel_size)
    output_padding = stride - kernel_size + 2 * padding
    return nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride, padding, output_padding)


def flat_size(module: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Features per image after `module`, found by a dry run (simpler than redoing conv arithmetic by hand)."""
    with torch.no_grad():
        return module(torch.zeros(1, *input_shape)).numel()


def to_tanh_range(images: torch.Tensor) -> torch.Tensor:
    return images * 2 - 1


def from_tanh_range(images: torch.Tensor) -> torch.Tensor:
    return (images + 1) / 2


# --- Variational pieces (VAE and AAE) -------------------------------------------------------------

def reparameterise(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps, so gradients flow through the sampling of the posterior."""
    return mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)


def kl_to_standard_normal(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, I)) summed over latent dimensions, averaged over the batch."""
    return (-0.5 * (1 + log_var - mu.pow(2) - log_var.exp()).sum(dim=1)).mean()


def prior_noise(n: int, dim: int, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
    """N(0, I) codes on `device`; the same `generator` state gives the same codes. They are drawn where the
    generator lives, so a model evaluated on CUDA with a seeded CPU generator decodes the CPU's codes."""
    draw_on = device if generator is None else generator.device
    return torch.randn(n, dim, device=draw_on, generator=generator).to(device)


# --- Adversarial pieces (AAE and GANs) ------------------------------------------------------------
# Discriminators return logits: BCE-with-logits is the same function as sigmoid + BCE, without the
# log(0) overflow when the discriminator becomes confident.

def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    """BCE of real -> real_label (below 1 for one-sided label smoothing) and fake -> 0."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_label))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def discriminator_accuracy(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> dict[str, torch.Tensor]:
    """The share of real inputs the discriminator calls real (logit above 0, probability above 0.5) and of
    generated ones it calls generated; detached device scalars, so the loop averages them with the losses and
    reads them back only every `log_every` steps (no host sync per step)."""
    return {"d_accuracy_real": (real_logits.detach() > 0).float().mean(),
            "d_accuracy_fake": (fake_logits.detach() <= 0).float().mean()}


def critic_accuracy(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> dict[str, torch.Tensor]:
    """The accuracy of a critic, whose scores have no threshold: the share of real inputs scored above the mean
    score of the generated ones in the batch, and of generated inputs scored below the mean score of the real
    ones. Both are 0.5 when the two score distributions coincide and 1 when they do not overlap; detached device
    scalars, like `discriminator_accuracy`."""
    real_scores, fake_scores = real_scores.detach(), fake_scores.detach()
    return {"d_accuracy_real": (real_scores > fake_scores.mean()).float().mean(),
            "d_accuracy_fake": (fake_scores < real_scores.mean()).float().mean()}


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's penalty (Gulrajani et al. 2017): (||grad critic(x)|| - 1)^2 at random points x on the lines
    between real and generated inputs, averaged. It keeps the critic near 1-Lipschitz, which is what makes its
    score gap a Wasserstein estimate; `create_graph` lets the penalty's own gradient reach the critic's weights."""
    mix = torch.rand(len(real), *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    between = (mix * real + (1 - mix) * fake).requires_grad_(True)
    (gradients,) = torch.autograd.grad(critic(between).sum(), between, create_graph=True)
    return (gradients.flatten(1).norm(dim=1) - 1).pow(2).mean()


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating loss: the generator maximises log D(fake) rather than minimising log(1 - D(fake))."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def optimizer_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def adam(module: nn.Module, lr: float, beta1: float = 0.9, beta2: float = 0.999) -> torch.optim.Adam:
    # The fused kernel (CPU and CUDA) updates all parameters in one pass.
    return torch.optim.Adam(module.parameters(), lr=lr, betas=(beta1, beta2), fused=True)


# --- Conv stacks (conv_ae and vae) ----------------------------------------------------------------

def conv_encoder(channels: tuple[int, ...], kernel_size: int, batch_norm: bool) -> nn.Sequential:
    """1 x S x S -> channels[-1] x S/2^k x S/2^k: one stride-2 conv (+ BatchNorm) + ReLU per entry."""
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip((1, *channels), channels):
        layers.append(nn.Conv2d(fan_in, fan_out, kernel_size, stride=2, padding=same_padding(kernel_size)))
        if batch_norm:
            layers.append(nn.BatchNorm2d(fan_out))
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def conv_decoder(channels: tuple[int, ...], kernel_size: int, batch_norm: bool) -> nn.Sequential:
    """The mirror of conv_encoder: channels[-1] x S/2^k x S/2^k -> 1 x S x S logits, one stride-2
    transposed conv per entry (widths in reverse, the last one down to a single channel)."""
    layers: list[nn.Module] = []
    widths = (*reversed(channels), 1)
    for fan_in, fan_out in zip(widths, widths[1:]):
        layers.append(conv_transpose(fan_in, fan_out, kernel_size, stride=2))
        if fan_out > 1:
            if batch_norm:
                layers.append(nn.BatchNorm2d(fan_out))
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def conv_image_decoder(code_dim: int, channels: tuple[int, ...], kernel_size: int, image_size: int) -> nn.Sequential:
    """code_dim -> 1 x S x S logits: a dense layer to channels[-1] x S/2^k x S/2^k, then conv_decoder."""
    side = image_size // 2 ** len(channels)
    return nn.Sequential(
        nn.Linear(code_dim, channels[-1] * side * side),
        nn.ReLU(),
        nn.Unflatten(1, (channels[-1], side, side)),
        conv_decoder(channels, kernel_size, batch_norm=False),
    )
