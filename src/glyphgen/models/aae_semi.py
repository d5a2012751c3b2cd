"""`aae_semi`: semi-supervised classification with an adversarial autoencoder (Makhzani et al. 2015, section 5).
A supervised-only baseline trains beside it on the same labelled batches, to show what the unlabelled images add.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from glyphgen.errors import GlyphgenError
from glyphgen.models.shared.adversarial_autoencoder import StyleCategoryConfig, StyleCategoryAutoencoder
from glyphgen.models.shared.blocks import optimizer_step, to_tanh_range
from glyphgen.params import check_fraction, check_non_negative, check_positive


# A slant, turn, stretch or shift changes how a character is written, not which one it is.
MAX_ROTATION = 0.26  # radians, about 15 degrees
MAX_SCALE = 0.10  # relative change of size
MAX_SHEAR = 0.15
MAX_SHIFT = 0.15  # in units of half the image side: about 2 px at 28 px


def random_deformation(images: torch.Tensor, strength: float) -> torch.Tensor:
    if strength == 0:
        return images
    n, device = len(images), images.device

    def uniform(bound: float, *shape: int) -> torch.Tensor:
        return (torch.rand(n, *shape, device=device) * 2 - 1) * bound * strength

    angle, scale, shear = uniform(MAX_ROTATION), 1 + uniform(MAX_SCALE), uniform(MAX_SHEAR)
    shift = uniform(MAX_SHIFT, 2)
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    theta = torch.stack([torch.stack([cos, shear - sin, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, align_corners=False)


@dataclass
class AAESemiConfig(StyleCategoryConfig):
    n_labels: int = 1000  # labelled training images (spread evenly over the classes)
    labelled_batch_size: int = 64  # labelled images per supervised step (one per training step)
    deformation: float = 1.0  # of each labelled image each time it is seen
    # Pseudo-labels (as FixMatch, Sohn et al. 2020) on unlabelled images; 0: none, as the paper.
    consistency_weight: float = 0.0
    consistency_deformation: float = 1.5
    confidence: float = 0.95

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive(self, "n_labels", "labelled_batch_size")
        check_non_negative(self, "deformation", "consistency_weight", "consistency_deformation")
        check_fraction(self, "confidence")


def labelled_subset(labels: np.ndarray, n_labels: int, seed: int) -> np.ndarray:
    """Indices of `n_labels` images, as even over the classes as n_labels allows."""
    classes = int(labels.max()) + 1
    if n_labels < classes:
        raise GlyphgenError(f"n_labels: expected at least one labelled image per class ({classes}), got {n_labels}")
    rng = np.random.default_rng(seed)
    per_class = np.full(classes, n_labels // classes)
    per_class[rng.permutation(classes)[: n_labels % classes]] += 1
    chosen = []
    for label, count in enumerate(per_class):
        members = np.flatnonzero(labels == label)
        if len(members) < count:
            raise GlyphgenError(f"n_labels: class {label} has {len(members)} training images, {count} needed")
        chosen.append(rng.choice(members, count, replace=False))
    return np.sort(np.concatenate(chosen))


class AAESemi(StyleCategoryAutoencoder):
    """Deformed labelled images by default: undeformed, 1000 labels are overfitted within an epoch (the options
    that did not pay: docs/experiments.md)."""

    name = "aae_semi"
    config_class = AAESemiConfig
    presets = {
        "default": AAESemiConfig(),
        "reference": AAESemiConfig(hidden=(1000, 1000), latent_dim=10, discriminator_hidden=(1000, 1000), beta1=0.9,
                                   batch_size=100, labelled_batch_size=100, deformation=0, consistency_weight=0,
                                   mixture_components=0),
        "tiny": AAESemiConfig(hidden=(32,), latent_dim=4, discriminator_hidden=(16,), n_labels=20,
                              labelled_batch_size=8, encoder_channels=(4, 8)),  # for tests
    }
    categorical_head = "classes"

    def __init__(self, config: AAESemiConfig, image_size: int, num_classes: int) -> None:
        super().__init__(config, image_size, num_classes, categories=num_classes)
        self.baseline = self.build_encoder(num_classes)
        self.labelled_images: torch.Tensor | None = None  # picked by start_training; not part of the checkpoint
        self.labelled_labels: torch.Tensor | None = None

    def configure_optimizers(self):
        return {**super().configure_optimizers(), "classifier": self.adam(self.encoder),
                "baseline": self.adam(self.baseline)}

    def start_training(self, images, labels, seed):
        chosen = torch.from_numpy(labelled_subset(labels.cpu().numpy(), self.config.n_labels, seed))
        self.labelled_images, self.labelled_labels = images[chosen.to(images.device)], labels[chosen.to(labels.device)]

    def train_step(self, images, labels, optimizers):
        losses = super().train_step(images, labels, optimizers)
        if self.labelled_images is None:
            raise GlyphgenError("aae_semi: no labelled subset (start_training was not called)")
        # Phase 3: the categorical head and the baseline on one labelled batch.
        index = torch.randint(len(self.labelled_labels), (self.config.labelled_batch_size,),
                              device=self.labelled_labels.device)
        labelled = random_deformation(self.labelled_images[index].float().div(255), self.config.deformation)
        targets = self.labelled_labels[index]
        supervised = F.cross_entropy(self.classify(labelled), targets)
        losses |= {"supervised": supervised.detach()}
        head_loss = supervised
        if self.config.consistency_weight:
            consistency = self.consistency_loss(images)
            head_loss = supervised + self.config.consistency_weight * consistency
            losses |= {"consistency": consistency.detach()}
        optimizer_step(optimizers["classifier"], head_loss)
        baseline = F.cross_entropy(self.baseline_classify(labelled), targets)
        optimizer_step(optimizers["baseline"], baseline)
        return losses | {"baseline": baseline.detach()}

    def consistency_loss(self, images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            confidence, guesses = F.softmax(self.classify(images), dim=1).max(1)
        deformed = random_deformation(images, self.config.consistency_deformation)
        per_image = F.cross_entropy(self.classify(deformed), guesses, reduction="none")
        return (per_image * (confidence >= self.config.confidence)).mean()

    def baseline_classify(self, images: torch.Tensor) -> torch.Tensor:
        return self.baseline(to_tanh_range(images))


MODEL = AAESemi
