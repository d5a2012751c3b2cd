"""`aae_supervised`: an adversarial autoencoder that separates style from content (Makhzani et al. 2015, section 5).
The class reaches the decoder for free, so the code learns what it does not say: slant, weight, stroke width."""

from __future__ import annotations

import torch

from glyphgen.models.shared.adversarial_autoencoder import StyleCategoryConfig, StyleCategoryAutoencoder

class AAESupervised(StyleCategoryAutoencoder):
    """Styles drawn from each class's mixture by default: a short run leaves the character in the style
    (docs/experiments.md)."""

    name = "aae_supervised"
    config_class = StyleCategoryConfig
    presets = {
        "default": StyleCategoryConfig(),
        "reference": StyleCategoryConfig(hidden=(1000, 1000), latent_dim=15, discriminator_hidden=(1000, 1000),
                                         beta1=0.9, batch_size=100, mixture_components=0),
        "tiny": StyleCategoryConfig(hidden=(32,), latent_dim=4, discriminator_hidden=(16,)),  # for tests
    }
    conditional = True
    infers_category = False

    def __init__(self, config: StyleCategoryConfig, image_size: int, num_classes: int) -> None:
        super().__init__(config, image_size, num_classes, categories=num_classes)

    def classify(self, images: torch.Tensor) -> torch.Tensor:
        """The class is an input, so the inferred one is the class whose decoding redraws the image best."""
        style = self.encode_style(images)
        logits = []
        for category in range(self.categories):
            categories = torch.full((len(images),), category, device=images.device)
            drawn = self.decoder(torch.cat([style, self.one_hot(categories)], dim=1))
            logits.append(-self.reconstruction_loss(drawn, images, reduction="none").flatten(1).mean(1))
        return torch.stack(logits, dim=1)

    def encode(self, images):
        return torch.cat([self.encode_style(images), self.one_hot(self.classify(images).argmax(1))], dim=1)


MODEL = AAESupervised
