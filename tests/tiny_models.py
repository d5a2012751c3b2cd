"""Tiny widths for every generator, so model and loop tests run in seconds on 2 cores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from glyphgen.io import ImageSet
from glyphgen.models import model_class
from pipeline_repo import KMNIST_MIRROR

# Each model's `tiny` preset (beside its default and reference in models/<name>.py) has widths that train in
# seconds on 2 cores. The GANs' files do not hold one yet: their tiny overrides of the default stand in.
GAN_TINY_OVERRIDES = {
    "gan": {"hidden": [32], "latent_dim": 8},
    # Spectral norm keeps a 4-8 discriminator's logits near 0 for far longer than a test's 15 steps.
    "dcgan": {"latent_dim": 8, "generator_channels": [8, 4, 4], "discriminator_channels": [4, 8],
              "spectral_norm": False},
    "wgan_gp": {"latent_dim": 8, "generator_channels": [8, 4, 4], "discriminator_channels": [4, 8]},
}


def tiny_section(name: str) -> dict:
    """The params.yaml section (less the budget) that trains model `name` at its tiny widths."""
    if "tiny" in model_class(name).presets:
        return {"preset": "tiny"}
    return {"preset": "default", **GAN_TINY_OVERRIDES[name]}


def tiny_config(name: str, **overrides):
    section = tiny_section(name)
    return model_class(name).config_from_params(section.pop("preset"), {**section, **overrides}, f"test:{name}")


def tiny_model(name: str, image_size: int = 28, **overrides):
    """A tiny model, started as the training loop starts it (on 40 random images of 10 classes)."""
    model = model_class(name)(tiny_config(name, **overrides), image_size, num_classes=10)
    images = torch.randint(0, 256, (40, 1, image_size, image_size), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0))
    model.start_training(images, torch.arange(40) % 10, seed=0)
    return model


def kmnist_slice(count: int, split: str = "train") -> ImageSet:
    """The first `count` KMNIST images of `split` from the shared mirror; skips the test when there is none."""
    if not KMNIST_MIRROR.is_dir():
        pytest.skip(f"KMNIST mirror not found at {KMNIST_MIRROR} (expected ../shared/kmnist beside the repository "
                    f"or GLYPHGEN_KMNIST_MIRROR)")
    images = np.load(KMNIST_MIRROR / f"kmnist-{split}-imgs.npz")["arr_0"][:count]
    labels = np.load(KMNIST_MIRROR / f"kmnist-{split}-labels.npz")["arr_0"][:count].astype(np.int64)
    return ImageSet(images, labels, [str(i) for i in range(10)])
