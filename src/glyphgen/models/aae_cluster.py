"""`aae_cluster`: unsupervised clustering with an adversarial autoencoder (Makhzani et al. 2015, section 6). With
no labels, the decoder says most through which of K categories an image is, so they become look-alike clusters."""

from __future__ import annotations

from dataclasses import dataclass

from glyphgen.models.shared.adversarial_autoencoder import StyleCategoryConfig, StyleCategoryAutoencoder
from glyphgen.params import check_positive


@dataclass
class AAEClusterConfig(StyleCategoryConfig):
    clusters: int = 16  # K, as the paper's MNIST runs

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive(self, "clusters")


class AAECluster(StyleCategoryAutoencoder):

    name = "aae_cluster"
    config_class = AAEClusterConfig
    presets = {
        "default": AAEClusterConfig(),
        "reference": AAEClusterConfig(hidden=(1000, 1000), latent_dim=5, discriminator_hidden=(1000, 1000), beta1=0.9,
                                      batch_size=100, mixture_components=0),
        "tiny": AAEClusterConfig(hidden=(32,), latent_dim=4, discriminator_hidden=(16,), clusters=6),  # for tests
    }
    categorical_head = "clusters"

    def __init__(self, config: AAEClusterConfig, image_size: int, num_classes: int) -> None:
        super().__init__(config, image_size, num_classes, categories=config.clusters)


MODEL = AAECluster
