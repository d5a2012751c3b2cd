"""Generators by name: the registry that the train, evaluate and render stages look models up in."""

from glyphgen.models.aae import AAE
from glyphgen.models.autoencoders import AE, ConvAE
from glyphgen.models.base import Generator
from glyphgen.models.gan import DCGAN, GAN
from glyphgen.models.vae import VAE

MODELS: dict[str, type[Generator]] = {model.name: model for model in (AE, ConvAE, VAE, AAE, GAN, DCGAN)}

__all__ = ["Generator", "MODELS"]
