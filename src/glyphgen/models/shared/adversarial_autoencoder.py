"""What the adversarial autoencoders share (Makhzani et al. 2015): a step (1) reconstructs while fooling every
code discriminator, then (2) teaches each discriminator prior draws (real) from encoded codes (fake)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import nn

from glyphgen.models.shared.base import Generator
from glyphgen.models.shared.blocks import (adam, conv_encoder, discriminator_accuracy, discriminator_loss, flat_size,
                                           from_tanh_range, generator_loss, mlp, optimizer_step, prior_noise,
                                           to_tanh_range)
from glyphgen.models.shared.code_mixture import CategoryCodeMixture
from glyphgen.params import check_fraction, check_non_negative, check_positive


@dataclass
class AdversarialAutoencoderConfig:
    hidden: tuple[int, ...] = (512, 512)
    latent_dim: int = 32  # the Gaussian code (the style, in the family with a category)
    reconstruction: Literal["bce", "tanh_mse"] = "bce"  # tanh_mse: the tutorial's tanh outputs and MSE
    discriminator_hidden: tuple[int, ...] = (256, 256)
    reconstruction_weight: float = 1.0
    adversarial_weight: float = 0.1
    lr: float = 1e-3
    beta1: float = 0.5
    batch_size: int = 64

    def __post_init__(self) -> None:
        check_positive(self, "hidden", "latent_dim", "discriminator_hidden", "lr", "batch_size")
        check_non_negative(self, "reconstruction_weight", "adversarial_weight")
        check_fraction(self, "beta1")


class AdversarialAutoencoder(Generator):

    has_encoder = True

    def __init__(self, config, image_size: int, num_classes: int, code_outputs: int, decoder_inputs: int) -> None:
        super().__init__(config, image_size, num_classes)
        self.encoder = self.build_encoder(code_outputs)
        # An MLP decoder, as the paper's: a conv one drew worse samples per CPU-second (docs/experiments.md).
        pixels = image_size * image_size
        output = nn.Tanh() if config.reconstruction == "tanh_mse" else None  # BCE takes the logits
        self.decoder = nn.Sequential(
            mlp([decoder_inputs, *reversed(config.hidden), pixels], nn.LeakyReLU(0.2), output),
            nn.Unflatten(1, self.image_shape),
        )

    def build_encoder(self, outputs: int) -> nn.Module:
        pixels = self.image_size * self.image_size
        return nn.Sequential(nn.Flatten(), mlp([pixels, *self.config.hidden, outputs], nn.LeakyReLU(0.2)))

    def code_discriminator(self, code_dim: int) -> nn.Module:
        return mlp([code_dim, *self.config.discriminator_hidden, 1], nn.LeakyReLU(0.2))

    def adam(self, *modules: nn.Module) -> torch.optim.Adam:
        return adam(nn.ModuleList(modules) if len(modules) > 1 else modules[0], self.config.lr, self.config.beta1)

    def encoder_output(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(to_tanh_range(images))

    def reconstruction_phase(self, images: torch.Tensor, codes: torch.Tensor,
                             adversaries: list[tuple[nn.Module, torch.Tensor]],
                             optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
        reconstruction = self.reconstruction_loss(self.decoder(codes), images)
        fooling = sum(generator_loss(discriminator(code)) for discriminator, code in adversaries)
        loss = self.config.reconstruction_weight * reconstruction + self.config.adversarial_weight * fooling
        optimizer_step(optimizer, loss)
        return {"loss": loss.detach(), "reconstruction": reconstruction.detach(), "fooling": fooling.detach()}

    @staticmethod
    def regularisation_phase(discriminator: nn.Module, optimizer: torch.optim.Optimizer, prior: torch.Tensor,
                             codes: torch.Tensor, role: str = "") -> dict[str, torch.Tensor]:
        real_logits, fake_logits = discriminator(prior), discriminator(codes.detach())
        loss = discriminator_loss(real_logits, fake_logits)
        optimizer_step(optimizer, loss)
        accuracy = discriminator_accuracy(real_logits, fake_logits)
        return {f"{role}discriminator": loss.detach(), **{role + name: value for name, value in accuracy.items()}}

    def reconstruction_loss(self, outputs: torch.Tensor, images: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        if self.config.reconstruction == "tanh_mse":
            return F.mse_loss(outputs, to_tanh_range(images), reduction=reduction)
        return F.binary_cross_entropy_with_logits(outputs, images, reduction=reduction)

    def decode(self, codes):
        outputs = self.decoder(codes)
        return from_tanh_range(outputs) if self.config.reconstruction == "tanh_mse" else torch.sigmoid(outputs)


@dataclass
class StyleCategoryConfig(AdversarialAutoencoderConfig):
    encoder_channels: tuple[int, ...] = ()  # stride-2 3x3 convs before the encoder's MLP
    # The style discriminator also reads the category, so the style cannot carry the character.
    style_given_category: bool = False
    mixture_components: int = 5  # of each category's style mixture; 0: prior styles, as the paper samples

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive(self, "encoder_channels")
        check_non_negative(self, "mixture_components")


class StyleCategoryAutoencoder(AdversarialAutoencoder):
    """The decoder reads a style (pushed to N(0, I)) beside a one-hot category: the class label, or with
    `infers_category` the encoder's softmax, pushed to one-hot draws by a second discriminator."""

    infers_category: ClassVar[bool] = True

    def __init__(self, config, image_size: int, num_classes: int, categories: int) -> None:
        self.categories = categories
        inferred = categories if self.infers_category else 0
        super().__init__(config, image_size, num_classes, config.latent_dim + inferred, config.latent_dim + categories)
        style_inputs = config.latent_dim + (categories if config.style_given_category else 0)
        self.style_discriminator = self.code_discriminator(style_inputs)
        if self.infers_category:
            self.category_discriminator = self.code_discriminator(categories)
        components = config.mixture_components
        self.styles = CategoryCodeMixture(config.latent_dim, categories, components) if components else None

    def build_encoder(self, outputs: int) -> nn.Module:
        if not self.config.encoder_channels:
            return super().build_encoder(outputs)
        convs = conv_encoder(self.config.encoder_channels, kernel_size=3, batch_norm=False)
        features = flat_size(convs, self.image_shape)
        return nn.Sequential(convs, nn.Flatten(), mlp([features, *self.config.hidden, outputs], nn.LeakyReLU(0.2)))

    @property
    def style_dim(self) -> int:
        return self.config.latent_dim

    @property
    def latent_dim(self) -> int:
        return self.style_dim + self.categories

    def configure_optimizers(self):
        optimizers = {"autoencoder": self.adam(self.encoder, self.decoder),
                      "style_discriminator": self.adam(self.style_discriminator)}
        if self.infers_category:
            optimizers["category_discriminator"] = self.adam(self.category_discriminator)
        return optimizers

    def encode_style(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder_output(images)[:, : self.style_dim]

    def classify(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder_output(images)[:, self.style_dim:]

    def one_hot(self, categories: torch.Tensor) -> torch.Tensor:
        return F.one_hot(categories.long(), self.categories).float()

    def train_step(self, images, labels, optimizers):
        outputs = self.encoder_output(images)
        style = outputs[:, : self.style_dim]
        category = F.softmax(outputs[:, self.style_dim:], dim=1) if self.infers_category else self.one_hot(labels)
        prior = prior_noise(len(images), self.style_dim, images.device, None)
        if self.config.style_given_category:
            # Both sides share the categories, so only the style's law given them differs.
            condition = category.detach()
            style, prior = torch.cat([style, condition], dim=1), torch.cat([prior, condition], dim=1)
        adversaries = [(self.style_discriminator, style)]
        if self.infers_category:
            adversaries.append((self.category_discriminator, category))
        code = torch.cat([outputs[:, : self.style_dim], category], dim=1)
        losses = self.reconstruction_phase(images, code, adversaries, optimizers["autoencoder"])
        losses |= self.regularisation_phase(self.style_discriminator, optimizers["style_discriminator"], prior, style,
                                            "style_")
        if self.infers_category:
            prior = self.one_hot(torch.randint(self.categories, (len(images),), device=images.device))
            losses |= self.regularisation_phase(self.category_discriminator, optimizers["category_discriminator"],
                                                prior, category, "category_")
        return losses

    def encode(self, images):
        outputs = self.encoder_output(images)
        return torch.cat([outputs[:, : self.style_dim], F.softmax(outputs[:, self.style_dim:], dim=1)], dim=1)

    def encode_sample(self, images, generator=None):
        """The style only: the part with a Gaussian prior, which the prior-fit metrics measure."""
        return self.encode_style(images)

    @torch.no_grad()
    def finish_training(self, batches, seed):
        if self.styles is None:
            return
        styles, categories = [], []
        for images, labels in batches:
            outputs = self.encoder_output(images)
            styles.append(outputs[:, : self.style_dim])
            categories.append(outputs[:, self.style_dim:].argmax(1) if self.infers_category else labels)
        self.styles.fit(torch.cat(styles), torch.cat(categories), seed)

    def decode_categories(self, style: torch.Tensor, categories: torch.Tensor) -> torch.Tensor:
        return self.decode(torch.cat([style, self.one_hot(categories.to(style.device))], dim=1))

    def sample_categories(self, categories: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.styles is not None:
            style = self.styles.sample_styles(categories, generator)
        else:
            style = prior_noise(len(categories), self.style_dim, self.device, generator)
        return self.decode_categories(style, categories)

    def sample(self, n, generator=None):
        if self.styles is not None:
            categories = self.styles.sample_categories(n, generator)
        else:
            categories = torch.randint(self.categories, (n,), device=self.device, generator=generator)
        return self.sample_categories(categories, generator)
