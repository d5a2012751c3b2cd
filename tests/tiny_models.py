"""Tiny widths for every generator, so model and loop tests run in seconds on 2 cores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from glyphgen.io import ImageSet
from glyphgen.models import model_class
from pipeline_repo import KMNIST_MIRROR

TINY_OVERRIDES = {
    "ae": {"hidden": [32], "latent_dim": 2, "mixture_components": 2},
    "conv_ae": {"channels": [4, 8], "latent_dim": 8, "mixture_components": 2},
    "vae": {"channels": [4, 8, 8], "hidden": 8, "mixture_components": 2},
    "aae": {"hidden": [32], "discriminator_hidden": [16], "mixture_components": 2},
    "aae_supervised": {"hidden": [32], "latent_dim": 4, "discriminator_hidden": [16]},
    "aae_semi": {"hidden": [32], "latent_dim": 4, "discriminator_hidden": [16], "n_labels": 20,
                 "labelled_batch_size": 8, "encoder_channels": [4, 8]},
    "aae_cluster": {"hidden": [32], "latent_dim": 4, "discriminator_hidden": [16], "clusters": 6},
    "gan": {"hidden": [32], "latent_dim": 8},
    # Spectral norm keeps a 4-8 discriminator's logits near 0 for far longer than a test's 15 steps.
    "dcgan": {"latent_dim": 8, "generator_channels": [8, 4, 4], "discriminator_channels": [4, 8],
              "spectral_norm": False},
    "wgan_gp": {"latent_dim": 8, "generator_channels": [8, 4, 4], "discriminator_channels": [4, 8]},
}


def tiny_config(name: str, **overrides):
    return model_class(name).config_from_params("default", {**TINY_OVERRIDES[name], **overrides}, f"test:{name}")


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
