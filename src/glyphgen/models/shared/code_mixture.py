"""A Gaussian mixture fitted to the training codes after training (Ghosh et al. 2020): prior draws land between
glyphs and decode to blends. Kept in buffers, so it travels in the state_dict and sampling needs only torch."""

from __future__ import annotations

import math

import torch
from torch import nn

from glyphgen.errors import GlyphgenError
from glyphgen.models.shared.blocks import prior_noise

RIDGE = 1e-4  # keeps collapsed code dimensions invertible
FIT_TOLERANCE = 1e-2  # looser than scikit-learn's: fewer EM steps, same samples (benchmarks/mixture_fit.py)


class CodeMixture(nn.Module):
    def __init__(self, dim: int, components: int) -> None:
        super().__init__()
        self.register_buffer("weights", torch.full((components,), 1.0 / components))
        self.register_buffer("means", torch.zeros(components, dim))
        self.register_buffer("scale_tril", torch.eye(dim).repeat(components, 1, 1))  # Cholesky factors

    @torch.no_grad()
    def fit(self, codes: torch.Tensor, seed: int, components: int | None = None, tol: float = FIT_TOLERANCE) -> int:
        """Returns the EM iterations; components beyond `components` get weight 0."""
        components = components or len(self.weights)
        if len(codes) < components:
            raise GlyphgenError(f"mixture_components: expected at most one per training image ({len(codes)}), "
                                f"got {components}")
        self.weights.zero_()
        if len(codes) == 1:  # a category with one training style; scikit-learn needs two: the ridge is its spread
            self.weights[0], self.means[0] = 1.0, codes[0]
            self.scale_tril[0] = torch.eye(len(codes[0])) * RIDGE ** 0.5
            return 0
        # Imported here: the stages that only load models skip it.
        from sklearn.mixture import GaussianMixture
        from threadpoolctl import threadpool_limits

        mixture = GaussianMixture(components, covariance_type="full", reg_covar=RIDGE, tol=tol, random_state=seed)
        # One BLAS thread: the matrices are small and spinning threads slow a busy machine.
        with threadpool_limits(1):
            mixture.fit(codes.double().cpu().numpy())
        self.weights[:components] = torch.from_numpy(mixture.weights_)
        self.means[:components] = torch.from_numpy(mixture.means_)
        self.scale_tril[:components] = torch.linalg.cholesky(torch.from_numpy(mixture.covariances_))
        return int(mixture.n_iter_)

    def component_log_probs(self, codes: torch.Tensor) -> torch.Tensor:
        # Written out: torch.distributions.MultivariateNormal imports SymPy, slow to import.
        offsets = (codes[:, None, :] - self.means).permute(1, 2, 0)  # components x dim x N
        whitened = torch.linalg.solve_triangular(self.scale_tril, offsets, upper=False)
        log_det = self.scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        log_density = -0.5 * (whitened.square().sum(1).T + self.means.shape[1] * math.log(2 * math.pi)) - log_det
        return log_density + self.weights.log()

    def log_prob(self, codes: torch.Tensor) -> torch.Tensor:
        return torch.logsumexp(self.component_log_probs(codes), dim=1)

    def sample(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        # Drawn where the generator lives, as in blocks.prior_noise.
        device = self.means.device
        draw_on = device if generator is None else generator.device
        component = torch.multinomial(self.weights.to(draw_on), n, replacement=True, generator=generator).to(device)
        noise = torch.randn(n, self.means.shape[1], 1, device=draw_on, generator=generator).to(device)
        return self.means[component] + (self.scale_tril[component] @ noise).squeeze(-1)


class CategoryCodeMixture(nn.Module):
    """p(category) and p(style | category) of the training codes, for models whose code is a style and a
    category."""

    def __init__(self, dim: int, categories: int, components: int) -> None:
        super().__init__()
        self.register_buffer("shares", torch.full((categories,), 1.0 / categories))
        self.per_category = nn.ModuleList(CodeMixture(dim, components) for _ in range(categories))

    @torch.no_grad()
    def fit(self, styles: torch.Tensor, categories: torch.Tensor, seed: int) -> None:
        for category, mixture in enumerate(self.per_category):
            members = styles[categories == category]
            if len(members):
                mixture.fit(members, seed, components=min(len(members), len(mixture.weights)))
        counts = torch.bincount(categories.cpu(), minlength=len(self.per_category)).double()
        self.shares.copy_(counts / counts.sum())

    def sample_categories(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        draw_on = self.shares.device if generator is None else generator.device
        return torch.multinomial(self.shares.to(draw_on), n, replacement=True,
                                 generator=generator).to(self.shares.device)

    def sample_styles(self, categories: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        categories = categories.to(self.shares.device)
        styles = torch.empty(len(categories), self.per_category[0].means.shape[1], device=self.shares.device)
        for category in categories.unique().tolist():
            members = categories == category
            styles[members] = self.per_category[category].sample(int(members.sum()), generator)
        return styles


class SamplesFromCodeMixture:
    """Mixin: decodes draws of a CodeMixture of `config.mixture_components` (0: of the prior). Call
    `build_code_mixture` in __init__."""

    codes: CodeMixture | None

    def build_code_mixture(self) -> None:
        components = self.config.mixture_components
        self.codes = CodeMixture(self.latent_dim, components) if components else None

    @torch.no_grad()
    def finish_training(self, batches, seed):
        if self.codes is not None:
            self.codes.fit(torch.cat([self.encode(images) for images, _ in batches]), seed)

    def sample(self, n, generator=None):
        if self.codes is not None:
            return self.decode(self.codes.sample(n, generator))
        return self.decode(prior_noise(n, self.latent_dim, self.device, generator))
