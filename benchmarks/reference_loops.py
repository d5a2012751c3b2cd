"""The training loop a user would otherwise write, as the classic tutorials write it (the PyTorch examples'
VAE and DCGAN, the popular PyTorch-GAN and VAE collections): the yardstick of `versus_reference.py`.

Every habit below is one of theirs, kept on purpose:
- a `Dataset` that turns each sample into a tensor on its own (PIL image -> `ToTensor`-style float), batched
  by a `DataLoader` with `shuffle=True`, every batch copied to the device;
- noise drawn with NumPy on the host and copied over each step;
- `.item()` on every loss every step (a host-device sync on CUDA);
- `zero_grad(set_to_none=False)`: the zeroing `zero_grad()` did before PyTorch 2.0, when they were written;
- Adam's default implementation (per-parameter for-loop on the CPU), NCHW weights, the default threads;
- discriminators ending in a sigmoid, scored with `BCELoss`.

The networks are glyphgen's own (the same architecture, batch size and Adam settings); only the loop
around them is the tutorials'. A model this file does not know (a newer one in the registry) runs its own
`train_step` inside this loop, so only the data pipeline, the optimiser and the read-backs differ.
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from glyphgen.models import Generator


class GlyphDataset(Dataset):
    """uint8 images N x H x W, converted one by one as torchvision's MNIST + ToTensor() does."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = Image.fromarray(self.images[index], mode="L")
        tensor = torch.from_numpy(np.array(image, copy=True)).unsqueeze(0).float().div(255)  # ToTensor()
        return tensor, int(self.labels[index])


def reference_batches(images: np.ndarray, labels: np.ndarray, batch_size: int, device: torch.device,
                      seed: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    loader = DataLoader(GlyphDataset(images, labels), batch_size=batch_size, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(seed))
    for batch, targets in loader:
        yield batch.to(device), targets.to(device)


def reference_optimizers(model: Generator) -> dict[str, torch.optim.Optimizer]:
    """The model's optimisers rebuilt with Adam's defaults (no `fused`), same parameters, lr and betas."""
    rebuilt = {}
    for name, optimizer in model.configure_optimizers().items():
        group = optimizer.param_groups[0]
        rebuilt[name] = torch.optim.Adam(group["params"], lr=group["lr"], betas=group["betas"])
    return rebuilt


def host_noise(n: int, dim: int, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.random.normal(0, 1, (n, dim))).float().to(device)


def update(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=False)
    loss.backward()
    optimizer.step()


def autoencoder_step(model, images, labels, optimizers) -> list[float]:
    inputs = model.corrupt(images)
    outputs = torch.sigmoid(model.decoder(model.encoder(inputs)))
    if model.config.loss == "bce":
        loss = F.binary_cross_entropy(outputs, images)
    else:
        loss = F.mse_loss(outputs, images)
    update(optimizers["autoencoder"], loss)
    return [loss.item()]


def vae_step(model, images, labels, optimizers) -> list[float]:
    hidden = model.encoder(images)
    mu, log_var = model.to_mu(hidden), model.to_log_var(hidden)
    std = torch.exp(0.5 * log_var)
    z = mu + std * host_noise(*mu.shape, images.device)
    reconstruction = torch.sigmoid(model.decoder(z))
    bce = F.binary_cross_entropy(reconstruction, images, reduction="sum") / len(images)
    kld = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp()) / len(images)
    loss = bce + model.config.kl_weight * kld
    update(optimizers["vae"], loss)
    return [loss.item(), bce.item(), kld.item()]


def aae_step(model, images, labels, optimizers) -> list[float]:
    valid = torch.ones(len(images), 1, device=images.device)
    fake = torch.zeros(len(images), 1, device=images.device)
    mean, log_var = model.code_distribution(images)
    codes = mean if log_var is None else mean + torch.exp(0.5 * log_var) * host_noise(*mean.shape, images.device)
    reconstruction = model.reconstruction_loss(model.decoder(codes), images)
    fooling = F.binary_cross_entropy(torch.sigmoid(model.discriminator(codes)), valid)
    loss = model.config.reconstruction_weight * reconstruction + model.config.adversarial_weight * fooling
    update(optimizers["autoencoder"], loss)

    prior = host_noise(len(images), model.latent_dim, images.device)
    real_loss = F.binary_cross_entropy(torch.sigmoid(model.discriminator(prior)), valid)
    fake_loss = F.binary_cross_entropy(torch.sigmoid(model.discriminator(codes.detach())), fake)
    critic = 0.5 * (real_loss + fake_loss)
    update(optimizers["discriminator"], critic)
    return [loss.item(), reconstruction.item(), critic.item()]


def gan_step(model, images, labels, optimizers) -> list[float]:
    real = images * 2 - 1  # transforms.Normalize((0.5,), (0.5,))
    classes = labels.long() if model.config.conditional else None  # a conditional G and D read the class too
    valid = torch.full((len(images), 1), model.config.real_label, device=images.device)
    fake = torch.zeros(len(images), 1, device=images.device)
    generated = model.generate(model.generator, host_noise(len(images), model.latent_dim, images.device), classes)

    def scores(batch):
        return torch.sigmoid(model.discriminator.judge(batch, classes)[0]).reshape(-1, 1)

    critic = F.binary_cross_entropy(scores(real), valid) + F.binary_cross_entropy(scores(generated.detach()), fake)
    update(optimizers["discriminator"], critic)
    fooling = F.binary_cross_entropy(scores(generated), torch.ones_like(valid))
    update(optimizers["generator"], fooling)
    if model.average_generator is not None:  # the same work as glyphgen's step, written the same way
        model.average_generator.update_parameters(model.generator)
    return [critic.item(), fooling.item()]


def own_step(model, images, labels, optimizers) -> list[float]:
    return [loss.item() for loss in model.train_step(images, labels, optimizers).values()]


def reference_step(model: Generator) -> Callable:
    """The tutorial-style step for `model`'s family, by what it is built from."""
    from glyphgen.models.shared.adversarial import AdversarialGenerator
    from glyphgen.models.shared.autoencoding import Autoencoder

    if isinstance(model, Autoencoder):
        return autoencoder_step
    if isinstance(model, AdversarialGenerator) and model.name != "wgan_gp":  # the BCE game of gan and dcgan
        return gan_step
    if model.name == "vae":
        return vae_step
    if model.name == "aae":
        return aae_step
    return own_step
