"""One style drawn in every category, for the models whose code is a style and a category (the alphabet, and the
rows of classes.png).

The paper's style is free of the character, so it is decoded beside any class as it is. At the CPU budgets the
encoder of `aae_supervised` has not learnt that: its style still says which character it came from, and decoded
beside another class it draws its own character again. A model that fitted a mixture of styles per category
(`CategoryCodeMixture`) shows where each character's styles lie, and its components where the character's forms
lie (a KMNIST class holds several unlike kana forms). A style's offset from the component it belongs to is what
is left once the form is taken out; added to another category's heaviest component (its commonest form), it draws
that category in the style (latent vector arithmetic). The style's own category is the one whose mixture makes it
most likely.

Measured by the evaluate stage's transfer_accuracy (the judge's accuracy on the alphabets of 1,000 KMNIST or 48
glyph test images) on the aae_supervised models of the 2026-11-27 default run: 66.5% on KMNIST with the offset
taken from the style's component, 33.3% with it taken from its class's mean; on glyphs, whose classes hold one
form each, 82.1% and 83.4%.
Models without the mixtures keep the paper's way.
"""

from __future__ import annotations

import torch


def style_in_categories(generator, styles: torch.Tensor, categories: torch.Tensor,
                        sources: torch.Tensor | None = None) -> torch.Tensor:
    """(N x len(categories)) x dim: each of the N x dim `styles` moved into each of `categories`, style by style;
    `sources` (N) are the categories they were drawn in (None: for each, the one whose mixture makes it most
    likely)."""
    categories = categories.to(styles.device)
    if generator.styles is None:
        return styles.repeat_interleave(len(categories), dim=0)
    mixtures = generator.styles.per_category
    # N x categories x components: log(weight x density) of each category's each component at each style.
    densities = torch.stack([mixture.component_log_probs(styles) for mixture in mixtures], dim=1)
    if sources is None:
        sources = densities.logsumexp(dim=2).argmax(dim=1)
    sources = sources.to(styles.device)
    own = densities[torch.arange(len(styles), device=styles.device), sources].argmax(dim=1)
    forms = torch.stack([mixture.means for mixture in mixtures])  # categories x components x dim
    commonest = forms[torch.arange(len(mixtures)), torch.stack([mixture.weights.argmax() for mixture in mixtures])]
    offsets = styles - forms[sources, own]
    return (commonest[categories][None] + offsets[:, None]).flatten(0, 1)
