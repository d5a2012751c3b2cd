"""One style drawn in every category (the alphabet, the rows of classes.png) for the style-and-category models.

At the CPU budgets the style still says which character it came from. With a mixture of styles per category,
a style's offset from its own component (the character's form) is moved onto each category's heaviest
component, its commonest form. A style's own category is the one whose mixture makes it most likely. The
evaluate stage's transfer_accuracy measures it (reports/metrics.md).
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
