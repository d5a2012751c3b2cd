"""Layer stacks, VAE maths and GAN losses written once for every generator; sizes derive from `image_size`."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def mlp(sizes: list[int], activation: nn.Module, output: nn.Module | None = None,
        batch_norm: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers += [nn.BatchNorm1d(fan_out), activation] if batch_norm else [activation]
        else:
            layers.append(output or nn.Identity())
    return nn.Sequential(*layers)


def halvings_to(side: int, smallest: int) -> int:
    count = 0
    while side % 2 == 0 and side // 2 >= smallest:
        side, count = side // 2, count + 1
    return count


def same_padding(kernel_size: int) -> int:
    return (kernel_size - 1) // 2


def conv_transpose(in_channels: int, out_channels: int, kernel_size: int, stride: int) -> nn.ConvTranspose2d:
    padding = same_padding(kernel_size)
    output_padding = stride - kernel_size + 2 * padding
    return nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride, padding, output_padding)


def flat_size(module: nn.Module, input_shape: tuple[int, ...]) -> int:
    """A dry run: simpler than redoing conv arithmetic by hand."""
    with torch.no_grad():
        return module(torch.zeros(1, *input_shape)).numel()


def to_tanh_range(images: torch.Tensor) -> torch.Tensor:
    return images * 2 - 1


def from_tanh_range(images: torch.Tensor) -> torch.Tensor:
    return (images + 1) / 2


def reparameterise(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    return mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)


def kl_to_standard_normal(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    return (-0.5 * (1 + log_var - mu.pow(2) - log_var.exp()).sum(dim=1)).mean()


def prior_noise(n: int, dim: int, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
    """Drawn where the generator lives, so a CUDA model with a seeded CPU generator decodes the CPU's codes."""
    draw_on = device if generator is None else generator.device
    return torch.randn(n, dim, device=draw_on, generator=generator).to(device)


# Discriminators return logits: BCE-with-logits cannot overflow at log(0) when they become confident.

def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    """A real_label below 1 is one-sided label smoothing."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_label))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def discriminator_accuracy(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> dict[str, torch.Tensor]:
    """Device scalars, read back with the losses every `log_every` steps: no host sync per step."""
    return {"d_accuracy_real": (real_logits.detach() > 0).float().mean(),
            "d_accuracy_fake": (fake_logits.detach() <= 0).float().mean()}


def critic_accuracy(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> dict[str, torch.Tensor]:
    """A critic's scores have no threshold, so each side is compared with the other's batch mean."""
    real_scores, fake_scores = real_scores.detach(), fake_scores.detach()
    return {"d_accuracy_real": (real_scores > fake_scores.mean()).float().mean(),
            "d_accuracy_fake": (fake_scores < real_scores.mean()).float().mean()}


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): keeps the critic near 1-Lipschitz, so its score gap estimates a
    Wasserstein distance."""
    mix = torch.rand(len(real), *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    between = (mix * real + (1 - mix) * fake).requires_grad_(True)
    (gradients,) = torch.autograd.grad(critic(between).sum(), between, create_graph=True)
    return (gradients.flatten(1).norm(dim=1) - 1).pow(2).mean()


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating: maximise log D(fake), whose gradient does not vanish early on."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def optimizer_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def adam(module: nn.Module, lr: float, beta1: float = 0.9, beta2: float = 0.999) -> torch.optim.Adam:
    return torch.optim.Adam(module.parameters(), lr=lr, betas=(beta1, beta2), fused=True)


def conv_encoder(channels: tuple[int, ...], kernel_size: int, batch_norm: bool) -> nn.Sequential:
    # 1 x S x S -> channels[-1] x S/2^k x S/2^k
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip((1, *channels), channels):
        layers.append(nn.Conv2d(fan_in, fan_out, kernel_size, stride=2, padding=same_padding(kernel_size)))
        if batch_norm:
            layers.append(nn.BatchNorm2d(fan_out))
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def conv_decoder(channels: tuple[int, ...], kernel_size: int, batch_norm: bool) -> nn.Sequential:
    # channels[-1] x S/2^k x S/2^k -> 1 x S x S logits
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
    # code_dim -> channels[-1] x S/2^k x S/2^k -> 1 x S x S logits
    side = image_size // 2 ** len(channels)
    return nn.Sequential(
        nn.Linear(code_dim, channels[-1] * side * side),
        nn.ReLU(),
        nn.Unflatten(1, (channels[-1], side, side)),
        conv_decoder(channels, kernel_size, batch_norm=False),
    )
