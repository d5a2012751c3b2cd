"""One style drawn in every category, for the models whose code is a style and a category (the alphabet, and the
rows of classes.png).

The paper's style is free of the character, so it is decoded beside any class as it is. At the CPU budgets the
encoder of `aae_supervised` has not learnt that: its style still says which character it came from, and decoded
beside another class it draws its own character again. A model that fitted a mixture of styles per category
(`CategoryCodeMixture`) shows where each character's styles lie; a style's offset from its own category's mean
is then what is left once the character is taken out, and added to another category's mean it draws that
category in the style (latent vector arithmetic). The style's own category is the one whose mixture makes it most
likely. Models without the mixtures keep the paper's way.
"""

from __future__ import annotations

import torch


def category_means(mixtures) -> torch.Tensor:
    """categories x dim: the mean of each category's mixture (`mixtures`: a model's CategoryCodeMixture)."""
    return torch.stack([(mixture.weights[:, None] * mixture.means).sum(0) for mixture in mixtures.per_category])


def most_likely_categories(mixtures, styles: torch.Tensor) -> torch.Tensor:
    """The category whose mixture gives each of the N x dim styles its highest density."""
    densities = []
    for mixture in mixtures.per_category:
        components = torch.distributions.MultivariateNormal(mixture.means, scale_tril=mixture.scale_tril)
        log_weights = torch.log(mixture.weights.clamp_min(torch.finfo(mixture.weights.dtype).tiny))
        densities.append(torch.logsumexp(components.log_prob(styles[:, None, :]) + log_weights, dim=1))
    return torch.stack(densities, dim=1).argmax(dim=1)


def style_in_categories(generator, style: torch.Tensor, categories: torch.Tensor,
                        source: int | None = None) -> torch.Tensor:
    """len(categories) x dim: `style` (dim) moved into each of `categories`; `source` is the category it was
    drawn in (None: the most likely one)."""
    if generator.styles is None:
        return style.expand(len(categories), -1)
    if source is None:
        source = int(most_likely_categories(generator.styles, style[None])[0])
    means = category_means(generator.styles).to(style.device)
    return style + means[categories.to(style.device)] - means[source]
