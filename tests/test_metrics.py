import math

import numpy as np
import pytest
import scipy.linalg
import torch

from glyphgen.errors import GlyphgenError
from glyphgen.evaluation import metrics
from glyphgen.evaluation.classifier import image_tensor, predict
from glyphgen.evaluation.scorecard import (
    EvaluateConfig, Splits, ReferenceStats, sample_count, score_generator, score_references, score_samples,
)
from glyphgen.params import parse_config
from doubles import NoisyCopies, PCAAutoencoder, RepeatedImage

CONFIG = EvaluateConfig(num_samples=1000, batch_size=500)


def direct_frechet(a: np.ndarray, b: np.ndarray) -> float:
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


def test_fid_matches_scipy_on_judge_features(judge, judge_features, kmnist_test):
    noisy = (image_tensor(kmnist_test) + 0.2 * torch.randn(len(kmnist_test), 1, 28, 28)).clamp(0, 1)
    fake = predict(judge, noisy)[0]
    ours = metrics.frechet_distance(judge_features.test, fake)
    assert ours == pytest.approx(direct_frechet(judge_features.test.double().numpy(), fake.double().numpy()), rel=1e-3)


def test_fid_of_a_set_with_itself_is_zero(judge_features):
    assert abs(metrics.frechet_distance(judge_features.test, judge_features.test)) < 1e-3


def test_fid_interval_covers_a_known_mean_shift_and_narrows_with_more_samples():
    # Real: the population N(0, I) itself (a huge draw); fake: N((1, 0), I). FID = |shift|^2 = 1, and its spread
    # over draws of n fakes is about 2 |shift| / sqrt(n) (the mean's error along the shift).
    rng = torch.Generator().manual_seed(0)
    real = torch.randn(200_000, 2, generator=rng)
    widths = []
    for count in (1000, 4000):
        fake = torch.randn(count, 2, generator=rng) + torch.tensor([1.0, 0.0])
        low, high = metrics.frechet_distance_interval(real, fake, draws=200, generator=rng)
        assert low < metrics.frechet_distance(real, fake) < high and low < 1.0 < high
        assert (high - low) / 2 == pytest.approx(1.96 * 2 / count**0.5, rel=0.25)
        widths.append(high - low)
    assert widths[1] == pytest.approx(widths[0] / 2, rel=0.3)


def test_fid_interval_is_fixed_by_its_generator(judge_features):
    real, fake = judge_features.test, judge_features.train
    first, again = (metrics.frechet_distance_interval(real, fake, 20, torch.Generator().manual_seed(3))
                    for _ in range(2))
    assert first == again


def test_block_distances_equal_the_naive_ones():
    rng = torch.Generator().manual_seed(0)
    queries, references = torch.rand(300, 784, generator=rng), torch.rand(1000, 784, generator=rng)
    naive = torch.cdist(queries.double(), references.double())
    # One buffer serves every block: copy each before asking for the next.
    blocks = [block.clone() for _, block in metrics.squared_distance_blocks(queries, references, 64 * 4 * 1000)]
    assert len(blocks) == 5  # 64 rows a block, the last one shorter
    assert torch.allclose(torch.cat(blocks).double().sqrt(), naive, rtol=1e-4)
    assert torch.allclose(metrics.nearest_distance(queries, references).double(), naive.min(dim=1).values, rtol=1e-4)
    # Images as int8 grey levels: exact, in grey levels.
    grey_queries, grey_references = (queries * 255).round().double(), (references * 255).round().double()
    exact = metrics.nearest_distance(metrics.pixel_codes(queries), metrics.pixel_codes(references))
    assert torch.allclose(exact.double(), torch.cdist(grey_queries, grey_references).min(dim=1).values, rtol=1e-6)
    points = references[:500]
    radius = metrics.kth_neighbour_radius(points, k=5)
    naive_radius = torch.cdist(points.double(), points.double()).kthvalue(6, dim=1).values
    assert torch.allclose(radius.double(), naive_radius, rtol=1e-4)


def test_fid_grows_as_real_images_are_noised(judge, judge_features, kmnist_test):
    rng = torch.Generator().manual_seed(0)
    clean = image_tensor(kmnist_test)
    noise = torch.randn(clean.shape, generator=rng)
    fids = [metrics.frechet_distance(judge_features.train, predict(judge, (clean + std * noise).clamp(0, 1))[0])
            for std in (0.0, 0.1, 0.3, 0.6)]
    # 9.5x with the tiny judge on one thread, 11x on two: the judge trains for one epoch only
    assert fids == sorted(fids) and fids[-1] > 5 * fids[0], fids


def test_prdc_of_identical_sets_is_perfect_and_of_far_apart_sets_is_zero():
    points = torch.randn(400, 8, generator=torch.Generator().manual_seed(0))
    same = metrics.precision_recall_density_coverage(points, points.clone(), k=5)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    far = metrics.precision_recall_density_coverage(points, points + 100.0, k=5)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_prdc_density_is_about_one_for_two_draws_of_one_distribution():
    rng = torch.Generator().manual_seed(1)
    scores = metrics.precision_recall_density_coverage(torch.randn(2000, 4, generator=rng),
                                                       torch.randn(2000, 4, generator=rng), k=5)
    assert 0.85 < scores["density"] < 1.15 and scores["coverage"] > 0.9


def test_class_coverage_of_uniform_and_single_class_predictions():
    uniform = metrics.class_coverage(torch.eye(10).repeat(5, 1))
    assert uniform["class_entropy"] == pytest.approx(1.0) and uniform["class_kl_uniform"] == pytest.approx(0.0)
    assert uniform["classes_present"] == 1.0
    single = metrics.class_coverage(torch.eye(10)[[3] * 50])
    assert single["class_entropy"] == pytest.approx(0.0) and single["class_kl_uniform"] == pytest.approx(math.log(10))
    assert single["classes_present"] == pytest.approx(0.1)


@pytest.fixture(scope="module")
def splits(judge_features, kmnist_train, kmnist_test) -> Splits:
    return Splits(judge_features, image_tensor(kmnist_train), image_tensor(kmnist_test))


@pytest.fixture(scope="module")
def reference(splits) -> ReferenceStats:
    return ReferenceStats.measure(splits, CONFIG)


def score_against_test(judge, samples, splits, reference):
    """Score samples as a model's are: against the test split's features."""
    return score_samples(judge, samples, splits.features.test, reference.radius, reference.test_to_train, splits,
                         CONFIG)


def test_reference_stats_are_what_each_model_would_compute_and_survives_a_round_trip(splits, reference, tmp_path):
    assert torch.equal(reference.radius, metrics.kth_neighbour_radius(splits.features.test, CONFIG.nearest_k))
    assert len(reference.test_to_train) == min(CONFIG.memorisation_samples, len(splits.test_images))
    reference.save(tmp_path / "reference_stats.npz")
    loaded = ReferenceStats.load(tmp_path / "reference_stats.npz")
    assert torch.equal(loaded.radius, reference.radius) and torch.equal(loaded.test_to_train, reference.test_to_train)
    with pytest.raises(GlyphgenError, match="evaluate_references"):
        ReferenceStats.load(tmp_path / "missing.npz")


def test_every_row_is_scored_on_the_same_number_of_samples(judge, splits, reference):
    config = EvaluateConfig(num_samples=5000, batch_size=500, fid_bootstrap=10)  # more than the 1000 test images
    rows = [*score_references(judge, splits, reference, config).values(),
            score_generator(NoisyCopies(splits.train_images, 0.1), judge, splits, reference, config)]
    assert sample_count(config, splits) == len(splits.test_images) == 1000
    assert [row["num_samples"] for row in rows] == [1000, 1000, 1000]
    assert all(row["fid_low"] <= row["fid"] <= row["fid_high"] for row in rows)


def test_prior_fit_reads_codes_drawn_from_the_posterior(kmnist_test):
    from tiny_models import tiny_model

    vae = tiny_model("vae").eval()
    images = image_tensor(kmnist_test)[:50]
    means = vae.encode(images)
    drawn, again = (vae.encode_sample(images, generator=torch.Generator().manual_seed(0)) for _ in range(2))
    assert torch.equal(drawn, again) and not torch.allclose(drawn, means)
    autoencoder = PCAAutoencoder(images)  # deterministic: its code is its only draw
    assert torch.equal(autoencoder.encode_sample(images), autoencoder.encode(images))


def test_collapsed_generator_scores_low_coverage_and_class_entropy(judge, splits, reference):
    images = splits.train_images
    collapsed = score_against_test(judge, RepeatedImage(images[0]).sample(1000), splits, reference)
    healthy = score_against_test(judge, NoisyCopies(images, 0.05).sample(1000), splits, reference)
    assert collapsed["coverage"] < 0.05 < 0.5 < healthy["coverage"]
    assert collapsed["class_entropy"] == 0.0 and healthy["class_entropy"] > 0.9
    assert collapsed["classes_present"] == pytest.approx(0.1)
    assert collapsed["fid"] > 5 * healthy["fid"]


def test_memorisation_flags_copies_of_training_images_not_noise_or_blur(judge, splits, reference):
    copies = score_against_test(judge, NoisyCopies(splits.train_images, 0.02).sample(1000), splits, reference)
    # Averages of 4 training images: the blur a weak autoencoder draws, near no single training image.
    averages = splits.train_images[:2000].reshape(500, 4, 1, 28, 28).mean(dim=1)
    blurry = score_against_test(judge, averages, splits, reference)
    references = score_references(judge, splits, reference, CONFIG)
    assert copies["memorisation_rate"] > 0.5
    assert blurry["memorisation_rate"] < CONFIG.memorisation_quantile
    assert references["real_test"]["memorisation_rate"] == pytest.approx(CONFIG.memorisation_quantile, abs=0.01)
    assert references["pixel_noise"]["memorisation_rate"] < CONFIG.memorisation_quantile


def test_references_sit_either_side_of_a_model(judge, splits, reference):
    references = score_references(judge, splits, reference, CONFIG)
    model = score_generator(PCAAutoencoder(splits.train_images, latent_dim=8), judge, splits, reference, CONFIG)
    assert references["real_test"]["fid"] < model["fid"] < references["pixel_noise"]["fid"]
    # Not precision or density: on a weak judge, noise features bunch up inside the real balls.
    assert references["real_test"]["coverage"] > model["coverage"] > references["pixel_noise"]["coverage"]


def test_encoder_models_get_reconstruction_and_prior_scores(judge, splits, reference):
    test_images = splits.test_images
    autoencoder = score_generator(PCAAutoencoder(splits.train_images), judge, splits, reference, CONFIG)
    assert 0 < autoencoder["reconstruction_mse"] < 0.2 and autoencoder["reconstruction_bce"] > 0
    assert autoencoder["prior_kl"] < 0.2  # its codes are scaled to unit variance on the train split
    copier = score_generator(RepeatedImage(test_images[0]), judge, splits, reference, CONFIG)
    assert "reconstruction_mse" not in copier and "prior_kl" not in copier


def test_reconstruction_of_identity_is_perfect():
    images = torch.rand(20, 1, 28, 28)
    assert metrics.reconstruction_errors(lambda x: x, images)["reconstruction_mse"] < 1e-10


def test_prior_kl_of_codes_with_an_inactive_dimension_is_large_but_finite():
    codes = torch.randn(1000, 3, generator=torch.Generator().manual_seed(0))
    codes[:, 2] = 0.5  # a dimension every image encodes alike: covariance singular, log det = -inf
    kl = metrics.gaussian_kl_to_standard(codes)
    floor = metrics.VARIANCE_FLOOR
    expected = 0.5 * (floor - 1 - math.log(floor)) + 0.5 * 0.25  # the floored dimension and its mean
    assert math.isfinite(kl) and kl == pytest.approx(expected, abs=0.05)


def test_prior_fit_is_zero_for_prior_draws_and_grows_with_a_shift():
    rng = torch.Generator().manual_seed(0)
    codes = torch.randn(4000, 2, generator=rng)
    assert metrics.gaussian_kl_to_standard(codes) < 0.01
    assert metrics.gaussian_kl_to_standard(codes + 1.0) == pytest.approx(1.0, abs=0.05)  # 0.5 * |mean|^2
    assert abs(metrics.mmd_to_standard(codes[:1000], rng)) < 0.01 < metrics.mmd_to_standard(codes[:1000] + 1.0, rng)


def test_bad_evaluate_params_name_the_key():
    with pytest.raises(GlyphgenError, match=r"params.yaml:evaluate.nearest_k"):
        parse_config(EvaluateConfig, {"nearest_k": 0}, "params.yaml:evaluate")
    with pytest.raises(GlyphgenError, match="unknown key 'samples'"):
        parse_config(EvaluateConfig, {"samples": 10}, "params.yaml:evaluate")
