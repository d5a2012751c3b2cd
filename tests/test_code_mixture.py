"""The code mixture the autoencoders sample from, and the hook and grid cadence of the loop that fits it."""

import sys
from pathlib import Path

import pytest
import torch

from glyphgen.errors import GlyphgenError
from glyphgen.models.shared.code_mixture import FIT_TOLERANCE, CategoryCodeMixture, CodeMixture
from glyphgen.training.loop import grid_due
from tiny_models import tiny_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from mixture_fit import fitted_mixture  # noqa: E402


def two_clusters(n: int = 600) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    left = torch.randn(n // 3, 2, generator=generator) * 0.1 + torch.tensor([-5.0, 0.0])
    right = torch.randn(2 * n // 3, 2, generator=generator) * 0.1 + torch.tensor([5.0, 1.0])
    return torch.cat([left, right])


def test_a_fitted_mixture_samples_where_the_codes_are_in_their_proportions():
    mixture = CodeMixture(dim=2, components=2)
    mixture.fit(two_clusters(), seed=0)
    samples = mixture.sample(3000, torch.Generator().manual_seed(1))
    on_left = samples[:, 0] < 0
    assert on_left.float().mean() == pytest.approx(1 / 3, abs=0.03)
    assert torch.allclose(samples[on_left].mean(0), torch.tensor([-5.0, 0.0]), atol=0.05)
    assert torch.allclose(samples[~on_left].mean(0), torch.tensor([5.0, 1.0]), atol=0.05)
    assert samples[~on_left].std(0).max() < 0.15  # the components' own spread, not the gap between them


def test_one_component_is_a_single_gaussian_fit():
    codes = two_clusters()
    mixture = CodeMixture(dim=2, components=1)
    mixture.fit(codes, seed=0)
    assert torch.allclose(mixture.means[0], codes.mean(0), atol=1e-4)
    covariance = mixture.scale_tril[0] @ mixture.scale_tril[0].T
    assert torch.allclose(covariance, torch.cov(codes.T) * (len(codes) - 1) / len(codes), atol=1e-3)


def test_sampling_is_seeded_and_survives_a_state_dict_round_trip():
    mixture = CodeMixture(dim=2, components=2)
    mixture.fit(two_clusters(), seed=0)
    copy = CodeMixture(dim=2, components=2)
    copy.load_state_dict(mixture.state_dict())
    draw = lambda m, seed: m.sample(5, torch.Generator().manual_seed(seed))  # noqa: E731
    assert torch.equal(draw(mixture, 3), draw(copy, 3)) and not torch.equal(draw(mixture, 3), draw(mixture, 4))


def test_the_fit_benchmark_times_the_fit_the_models_make_at_their_tolerance():
    codes = two_clusters() + 0.3 * torch.randn(600, 2, generator=torch.Generator().manual_seed(1))
    model_fit = CodeMixture(dim=2, components=3)
    iterations = model_fit.fit(codes, seed=0)
    benchmarked, benchmarked_iterations, seconds = fitted_mixture(codes, components=3, tol=FIT_TOLERANCE, seed=0)
    assert torch.allclose(benchmarked.means, model_fit.means) and torch.allclose(benchmarked.weights, model_fit.weights)
    assert benchmarked_iterations == iterations >= 1 and seconds >= 0
    assert fitted_mixture(codes, components=3, tol=1e-6, seed=0)[1] > iterations  # a tighter tolerance: more EM


def test_log_prob_is_the_mixtures_density():
    codes = two_clusters()
    single = CodeMixture(dim=2, components=1)
    single.fit(codes, seed=0)
    gaussian = torch.distributions.MultivariateNormal(single.means[0], scale_tril=single.scale_tril[0])
    points = torch.tensor([[0.0, 0.0], [5.0, 1.0]])
    assert torch.allclose(single.log_prob(points), gaussian.log_prob(points), atol=1e-5)
    # Two components (and two unused ones at weight 0): a third of the mass on the left cluster, two thirds right.
    mixture = CodeMixture(dim=2, components=4)
    mixture.fit(codes, seed=0, components=2)
    points = torch.tensor([[-5.0, 0.0], [5.0, 1.0], [0.0, 0.5]])
    density = sum(weight * torch.distributions.MultivariateNormal(mean, scale_tril=tril).log_prob(points).exp()
                  for weight, mean, tril in zip(mixture.weights[:2], mixture.means[:2], mixture.scale_tril[:2]))
    assert torch.allclose(mixture.log_prob(points)[:2], density[:2].log(), atol=1e-4)
    assert mixture.log_prob(points)[2] < -100  # between the clusters, where no code lies


def test_more_components_than_codes_is_a_one_line_error():
    with pytest.raises(GlyphgenError, match=r"mixture_components: expected at most one per training image \(3\)"):
        CodeMixture(dim=2, components=5).fit(torch.randn(3, 2), seed=0)


@pytest.mark.parametrize("name", ["ae", "conv_ae", "vae", "aae"])
def test_finish_training_fits_the_mixture_the_samples_decode(name):
    torch.manual_seed(0)
    model = tiny_model(name).eval()
    before = model.draw(4, seed=0)
    images = torch.rand(40, 1, 28, 28)
    model.finish_training([(batch, torch.zeros(len(batch), dtype=torch.long)) for batch in images.split(10)], seed=0)
    codes = model.encode(images)
    assert torch.allclose((model.codes.weights[:, None] * model.codes.means).sum(0), codes.mean(0), atol=1e-3)
    assert not torch.equal(model.draw(4, seed=0), before)


@pytest.mark.parametrize("name", ["vae", "aae"])
def test_without_a_mixture_samples_decode_prior_draws(name):
    model = tiny_model(name, mixture_components=0).eval()
    assert model.codes is None
    model.finish_training([(torch.rand(8, 1, 28, 28), torch.zeros(8, dtype=torch.long))], seed=0)  # nothing to fit
    prior = torch.randn(2, model.latent_dim, generator=torch.Generator().manual_seed(0))
    assert torch.equal(model.draw(2, seed=0), model.decode(prior))


def test_each_category_samples_its_own_styles_and_categories_come_in_their_training_shares():
    codes = two_clusters()  # 200 on the left, 400 on the right
    categories = (codes[:, 0] > 0).long()
    mixtures = CategoryCodeMixture(dim=2, categories=3, components=2)
    mixtures.fit(codes, categories, seed=0)
    assert torch.allclose(mixtures.shares, torch.tensor([1 / 3, 2 / 3, 0.0], dtype=torch.float32))
    drawn = mixtures.sample_categories(3000, torch.Generator().manual_seed(1))
    assert (drawn == 1).float().mean() == pytest.approx(2 / 3, abs=0.03) and not (drawn == 2).any()
    wanted = torch.tensor([0, 1, 2]).repeat(500)
    styles = mixtures.sample_styles(wanted, torch.Generator().manual_seed(2))
    assert torch.allclose(styles[wanted == 0].mean(0), torch.tensor([-5.0, 0.0]), atol=0.05)
    assert torch.allclose(styles[wanted == 1].mean(0), torch.tensor([5.0, 1.0]), atol=0.05)
    # No training code fell in category 2: its styles are the prior's.
    assert styles[wanted == 2].mean(0).abs().max() < 0.15 and styles[wanted == 2].std(0).sub(1).abs().max() < 0.15


def test_a_category_with_fewer_styles_than_components_gets_one_component_per_style():
    mixtures = CategoryCodeMixture(dim=2, categories=2, components=5)
    mixtures.fit(torch.tensor([[1.0, 1.0], [3.0, 3.0], [0.0, 0.0]]), torch.tensor([0, 0, 1]), seed=0)
    assert (mixtures.per_category[0].weights > 0).sum() == 2 and (mixtures.per_category[1].weights > 0).sum() == 1
    styles = mixtures.sample_styles(torch.ones(50, dtype=torch.long), torch.Generator().manual_seed(0))
    assert styles.abs().max() < 0.1  # one style, and the fit's small ridge around it


@pytest.mark.parametrize("name", ["aae_supervised", "aae_semi", "aae_cluster"])
def test_the_family_draws_each_categorys_styles_from_its_training_images(name):
    torch.manual_seed(0)
    model = tiny_model(name, mixture_components=2).eval()
    images = torch.rand(60, 1, 28, 28)
    labels = torch.arange(60) % 10
    model.finish_training([(batch, label) for batch, label in zip(images.split(20), labels.split(20))], seed=0)
    outputs = model.encoder_output(images)
    categories = outputs[:, model.style_dim:].argmax(1) if model.infers_category else labels
    used = categories.unique()
    assert torch.allclose(model.styles.shares[used].sum(), torch.tensor(1.0))
    for category in used.tolist():
        mixture = model.styles.per_category[category]
        fitted_mean = (mixture.weights[:, None] * mixture.means).sum(0)
        assert torch.allclose(fitted_mean, outputs[categories == category, : model.style_dim].mean(0), atol=1e-3)
    assert model.draw(8, seed=0).shape == (8, 1, 28, 28)
    wanted = torch.full((4,), int(used[0]))
    assert torch.equal(model.sample_categories(wanted, torch.Generator().manual_seed(3)),
                       model.sample_categories(wanted, torch.Generator().manual_seed(3)))


@pytest.mark.parametrize("epochs, grids, expected", [
    (2, 8, [1, 2]), (8, 8, list(range(1, 9))), (60, 3, [20, 40, 60]), (5, 1, [5]),
])
def test_sample_grids_are_spread_evenly_and_end_on_the_last_epoch(epochs, grids, expected):
    assert [epoch for epoch in range(1, epochs + 1) if grid_due(epoch, epochs, grids)] == expected
