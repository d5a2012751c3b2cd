"""One style drawn in every category (the alphabet). A short run leaves the character in the style, so a style's
offset from its own mixture component (the character's form) moves onto each category's commonest form."""

from __future__ import annotations

import torch


def style_in_categories(generator, styles: torch.Tensor, categories: torch.Tensor,
                        sources: torch.Tensor | None = None) -> torch.Tensor:
    """`sources`: the categories the styles were drawn in; None: those whose mixtures make them most likely."""
    categories = categories.to(styles.device)
    if generator.styles is None:
        return styles.repeat_interleave(len(categories), dim=0)
    mixtures = generator.styles.per_category
    densities = torch.stack([mixture.component_log_probs(styles) for mixture in mixtures], dim=1)
    if sources is None:
        sources = densities.logsumexp(dim=2).argmax(dim=1)
    sources = sources.to(styles.device)
    own = densities[torch.arange(len(styles), device=styles.device), sources].argmax(dim=1)
    forms = torch.stack([mixture.means for mixture in mixtures])  # categories x components x dim
    commonest = forms[torch.arange(len(mixtures)), torch.stack([mixture.weights.argmax() for mixture in mixtures])]
    offsets = styles - forms[sources, own]
    return (commonest[categories][None] + offsets[:, None]).flatten(0, 1)
