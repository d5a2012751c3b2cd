import math

import numpy as np
import pytest
import scipy.linalg
import torch

from glyphgen.errors import GlyphgenError
from glyphgen.evaluation import metrics
from glyphgen.evaluation.judges import image_tensor, predict
from glyphgen.evaluation.realism import two_sample_accuracy, wilson_interval
from glyphgen.evaluation.sanity import DEGRADATIONS
from glyphgen.evaluation.scorecard import (
    draw_samples,
    EvaluateConfig, Splits, ReferenceStats, sample_count, score_generator, score_references, score_samples,
)
from glyphgen.params import parse_config
from doubles import NoisyCopies, PCAAutoencoder, RepeatedImage

CONFIG = EvaluateConfig(num_samples=1000, batch_size=500, kid_subsets=10, kid_subset_size=500, two_sample_images=1000)


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


def test_fid_interval_is_fixed_by_its_generator(judge_features, train_features):
    real, fake = judge_features.test, train_features
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
    # Images as grey levels: the products are exact, so the nearest distances match float64's to rounding.
    grey_queries, grey_references = (queries * 255).round().double(), (references * 255).round().double()
    exact = metrics.nearest_distance(metrics.pixel_codes(queries), metrics.pixel_codes(references))
    assert torch.allclose(exact.double(), torch.cdist(grey_queries, grey_references).min(dim=1).values, rtol=1e-6)
    points = references[:500]
    radius = metrics.kth_neighbour_radius(points, k=5)
    naive_radius = torch.cdist(points.double(), points.double()).kthvalue(6, dim=1).values
    assert torch.allclose(radius.double(), naive_radius, rtol=1e-4)


def test_fid_grows_as_real_images_are_noised(judge, train_features, kmnist_test):
    rng = torch.Generator().manual_seed(0)
    clean = image_tensor(kmnist_test)
    noise = torch.randn(clean.shape, generator=rng)
    fids = [metrics.frechet_distance(train_features, predict(judge, (clean + std * noise).clamp(0, 1))[0])
            for std in (0.0, 0.1, 0.3, 0.6)]
    # a margin below what the tiny judge (two epochs on 2,000 images) gives on either CPU kind and thread count
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


def test_pixel_codes_are_exact_at_any_size():
    # Worst case for the sums: every pixel -128 against -128 (black on black after the shift), 1024 or 4096 of them.
    for size, dtype in ((28, torch.float32), (32, torch.float32), (64, torch.float64)):
        black = metrics.pixel_codes(torch.zeros(2, 1, size, size))
        assert black.dtype == dtype
        assert float(black[:1] @ black[1:].T) == size * size * 128 * 128
    white = torch.ones(1, 1, 64, 64)
    assert float(metrics.nearest_distance(metrics.pixel_codes(white), metrics.pixel_codes(torch.zeros(3, 1, 64, 64)))) == 255 * 64


def test_class_coverage_counts_confident_calls_only():
    uniform = metrics.class_coverage(*metrics.confident_calls(20 * torch.eye(10).repeat(5, 1), 0.5), 10)
    assert uniform == {"classes_present": 1.0, "class_entropy": pytest.approx(1.0), "confident_share": 1.0}
    single = metrics.class_coverage(*metrics.confident_calls(20 * torch.eye(10)[[3] * 50], 0.5), 10)
    assert single == {"classes_present": pytest.approx(0.1), "class_entropy": 0.0, "confident_share": 1.0}
    unsure = metrics.class_coverage(*metrics.confident_calls(torch.zeros(50, 10), 0.5), 10)
    assert unsure == {"classes_present": 0.0, "class_entropy": 0.0, "confident_share": 0.0}
    # Just below the bar: 0.49 on one class is not a confident call.
    below = metrics.confident_calls(torch.log(torch.tensor([[0.49, 0.26, 0.25]])), 0.5)
    assert below[0].tolist() == [0] and below[1].tolist() == [False]



def kid(real, fake, subsets, subset_size, seed=0):
    return metrics.kernel_distance(metrics.KernelReference.draw(real, subsets, subset_size, seed), fake, seed + 1)


def test_kid_is_zero_on_average_for_one_distribution_and_grows_with_a_shift():
    rng = torch.Generator().manual_seed(0)
    real, fake = torch.randn(2000, 16, generator=rng), torch.randn(2000, 16, generator=rng)
    same, spread = kid(real, fake, 20, 500)
    assert abs(same) < 3 * spread / 20**0.5 + 1e-3  # unbiased: within the subsets' noise of 0
    assert kid(real, real, 5, 500)[0] < 0.01
    shifted = [kid(real, fake + shift, 10, 500)[0] for shift in (0.5, 1.0, 2.0)]
    assert 0.05 < shifted[0] < shifted[1] < shifted[2]


def unbiased_mmd(x, y):
    """Squared MMD with the cubic polynomial kernel, written out in float64."""
    x, y = x.double(), y.double()
    kernel = lambda a, b: (a @ b.T / a.shape[1] + 1) ** 3
    off_diagonal = lambda k: (k.sum() - k.trace()) / (len(k) * (len(k) - 1))
    return float(off_diagonal(kernel(x, x)) + off_diagonal(kernel(y, y)) - 2 * kernel(x, y).mean())


@pytest.mark.parametrize("real_count, fake_count", [(30, 30), (30, 12), (12, 30)])
def test_kid_on_whole_sets_is_the_unbiased_mmd_written_out(real_count, fake_count):
    rng = torch.Generator().manual_seed(2)
    real, fake = torch.rand(real_count, 5, generator=rng), torch.rand(fake_count, 5, generator=rng) + 0.3
    expected = unbiased_mmd(real, fake)
    value, spread = kid(real, fake, subsets=3, subset_size=100)  # subsets larger than both sets: each is all
    assert value == pytest.approx(expected, rel=1e-4, abs=1e-6) and spread == pytest.approx(0, abs=1e-6)


def test_kid_against_a_set_no_larger_than_a_subset_averages_each_real_subsets_mmd():
    rng = torch.Generator().manual_seed(3)
    real, fake = torch.rand(200, 5, generator=rng), torch.rand(40, 5, generator=rng) + 0.3
    reference = metrics.KernelReference.draw(real, subsets=4, subset_size=50, seed=0)
    each = [unbiased_mmd(real[index], fake) for index in reference.subsets]
    value, spread = metrics.kernel_distance(reference, fake, seed=1)
    assert value == pytest.approx(np.mean(each), rel=1e-4) and spread == pytest.approx(np.std(each), rel=1e-3)


def test_kid_does_not_grow_as_samples_shrink_as_fid_does():
    rng = torch.Generator().manual_seed(1)
    real = torch.randn(4000, 8, generator=rng)
    small, large = torch.randn(100, 8, generator=rng), torch.randn(2000, 8, generator=rng)
    assert metrics.frechet_distance(real, small) > 5 * metrics.frechet_distance(real, large)
    assert abs(kid(real, small, 20, 100)[0]) < 0.05


def test_two_sample_test_cannot_tell_one_distribution_apart_and_tells_disjoint_ones_apart(kmnist_train, kmnist_test):
    train, test = image_tensor(kmnist_train), image_tensor(kmnist_test)
    same = two_sample_accuracy(train[:1000], test[:1000], epochs=4, seed=0)
    assert same["c2st_low"] < 0.5 + 0.1 and same["c2st_accuracy"] < 0.65
    noise = two_sample_accuracy(train[:1000], torch.rand(1000, 1, 28, 28), epochs=4, seed=0)
    assert noise["c2st_accuracy"] > 0.95 and noise["c2st_low"] > 0.9
    dim = two_sample_accuracy(train[:1000], test[:1000] * 0.5, epochs=4, seed=0)
    assert dim["c2st_low"] > 0.7  # strokes at half brightness
    assert two_sample_accuracy(train[:1000], test[:1000] * 0.5, epochs=4, seed=0) == dim  # seeded


def test_wilson_interval_of_a_known_share():
    low, high = wilson_interval(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-3) and high == pytest.approx(0.5962, abs=1e-3)
    assert wilson_interval(100, 100)[1] <= 1.0 and wilson_interval(0, 100)[0] >= 0.0


@pytest.fixture(scope="module")
def splits(kmnist_train, kmnist_test) -> Splits:
    return Splits(image_tensor(kmnist_train), image_tensor(kmnist_test), kmnist_train.labels, kmnist_test.labels,
                  kmnist_train.class_names)


@pytest.fixture(scope="module")
def reference(panel, splits) -> ReferenceStats:
    return ReferenceStats.measure(panel, splits, CONFIG)


def score_against_test(panel, samples, splits, reference):
    """Score samples as a model's are: against the test split's features."""
    return score_samples(panel, samples, {name: features.test for name, features in panel.features.items()},
                         reference.radius, reference.test_to_train, splits, CONFIG)


def test_reference_stats_are_what_each_model_would_compute_and_survives_a_round_trip(panel, splits, reference,
                                                                                      tmp_path):
    first, second = list(panel.judges)[:2]
    assert reference.judge == first  # the judge that gives precision, recall, density and coverage
    assert torch.equal(reference.radius, metrics.kth_neighbour_radius(panel.features[first].test, CONFIG.nearest_k))
    assert len(reference.test_to_train) == min(CONFIG.memorisation_samples, len(splits.test_images))
    reference.save(tmp_path / "reference_stats.npz")
    loaded = ReferenceStats.load(tmp_path / "reference_stats.npz", first)
    assert loaded.judge == first and torch.equal(loaded.radius, reference.radius)
    assert torch.equal(loaded.test_to_train, reference.test_to_train)
    with pytest.raises(GlyphgenError, match=f"judge '{first}', expected '{second}'.*evaluate_references"):
        ReferenceStats.load(tmp_path / "reference_stats.npz", second)  # judges reordered in params.yaml
    with pytest.raises(GlyphgenError, match="evaluate_references"):
        ReferenceStats.load(tmp_path / "missing.npz", first)


def test_every_card_holds_every_judge_and_every_row_the_same_two_set_sizes(panel, splits, reference):
    config = EvaluateConfig(num_samples=5000, batch_size=500, fid_bootstrap=10, kid_subsets=5, kid_subset_size=500,
                            two_sample_images=500)  # more samples than the 2000 train images
    ceiling, floor = score_references(panel, splits, reference, config).values()
    model = score_generator(NoisyCopies(splits.train_images, 0.1), panel, splits, reference, config)
    assert sample_count(config, splits) == len(splits.train_images) == 2000
    # models and the floor: 2000 samples against the 1000 test images; the ceiling: the test images against 2000
    assert [(row["num_samples"], row["num_reference"]) for row in (model, floor)] == [(2000, 1000)] * 2
    assert (ceiling["num_samples"], ceiling["num_reference"]) == (1000, 2000)
    rows = [ceiling, floor, model]
    for row in rows:
        assert list(row["judges"]) == list(panel.judges)
        assert all(scores["fid_low"] <= scores["fid"] <= scores["fid_high"] for scores in row["judges"].values())
        assert row["c2st_low"] <= row["c2st_accuracy"] <= row["c2st_high"]


def test_prior_fit_reads_codes_drawn_from_the_posterior(kmnist_test):
    from tiny_models import tiny_model

    vae = tiny_model("vae").eval()
    images = image_tensor(kmnist_test)[:50]
    means = vae.encode(images)
    drawn, again = (vae.encode_sample(images, generator=torch.Generator().manual_seed(0)) for _ in range(2))
    assert torch.equal(drawn, again) and not torch.allclose(drawn, means)
    autoencoder = PCAAutoencoder(images)  # deterministic: its code is its only draw
    assert torch.equal(autoencoder.encode_sample(images), autoencoder.encode(images))


def test_collapse_shows_in_every_judges_coverage_and_class_entropy(panel, splits, reference):
    images = splits.train_images
    collapsed = score_against_test(panel, RepeatedImage(images[0]).sample(1000), splits, reference)
    healthy = score_against_test(panel, NoisyCopies(images, 0.05).sample(1000), splits, reference)
    first = next(iter(panel.judges))  # the one judge that computes precision/recall/density/coverage
    assert collapsed["judges"][first]["coverage"] < 0.05 < 0.5 < healthy["judges"][first]["coverage"]
    assert all("coverage" not in scores for name, scores in collapsed["judges"].items() if name != first)
    for name in panel.judges:
        bad, good = collapsed["judges"][name], healthy["judges"][name]
        assert bad["class_entropy"] == 0.0 and good["class_entropy"] > 0.8, name
        assert bad["classes_present"] <= 0.1 < 0.9 <= good["classes_present"], name
        assert bad["fid"] > 3 * good["fid"] and bad["kid"] > 3 * good["kid"], name
    assert collapsed["c2st_accuracy"] > 0.9


def test_unrecognised_share_counts_samples_no_judge_calls_and_noise_has_more_of_them(panel, splits, reference):
    images = torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    noise = score_against_test(panel, images, splits, reference)
    confident = torch.stack([metrics.confident_calls(predict(judge, images)[1], CONFIG.confidence)[1]
                             for judge in panel.judges.values()])
    assert noise["unrecognised_share"] == pytest.approx(float((~confident.any(dim=0)).double().mean()))
    # A softmax judge can be sure of noise (docs/metrics.md): the test asks for an order, not a level.
    real = score_references(panel, splits, reference, CONFIG)["real_test"]
    assert real["unrecognised_share"] < 0.3 and noise["unrecognised_share"] > real["unrecognised_share"] + 0.2
    assert noise["c2st_accuracy"] > 0.95 and real["c2st_accuracy"] < 0.7


def test_memorisation_flags_copies_of_training_images_not_noise_or_blur(panel, splits, reference):
    copies = score_against_test(panel, NoisyCopies(splits.train_images, 0.02).sample(1000), splits, reference)
    # Averages of 4 training images: the blur a weak autoencoder draws, near no single training image.
    averages = splits.train_images[:2000].reshape(500, 4, 1, 28, 28).mean(dim=1)
    blurry = score_against_test(panel, averages, splits, reference)
    references = score_references(panel, splits, reference, CONFIG)
    assert copies["memorisation_rate"] > 0.5
    assert blurry["memorisation_rate"] < CONFIG.memorisation_quantile
    assert references["real_test"]["memorisation_rate"] == pytest.approx(CONFIG.memorisation_quantile, abs=0.01)
    assert references["pixel_noise"]["memorisation_rate"] < CONFIG.memorisation_quantile


def test_references_sit_either_side_of_thinned_images(panel, splits, reference):
    references = score_references(panel, splits, reference, CONFIG)
    # Training images with strokes two pixels thinner: plainly worse than real, plainly better than noise.
    thinned = DEGRADATIONS["thinner"](splits.train_images[:1000], None, None, 2, None)
    drawn = score_against_test(panel, thinned, splits, reference)
    for name in panel.judges:
        real, model, noise = (row["judges"][name] for row in (references["real_test"], drawn, references["pixel_noise"]))
        assert 1.25 * real["fid"] < model["fid"] < noise["fid"] / 1.25, name
    # Not precision or density: on a weak judge, noise features bunch up inside the real balls.
    real, model, noise = (row["judges"]["cnn"] for row in (references["real_test"], drawn, references["pixel_noise"]))
    assert real["coverage"] > model["coverage"] > noise["coverage"]


def test_encoder_models_get_reconstruction_and_prior_scores(panel, splits, reference):
    test_images = splits.test_images
    autoencoder = score_generator(PCAAutoencoder(splits.train_images), panel, splits, reference, CONFIG)
    assert 0 < autoencoder["reconstruction_mse"] < 0.2 and autoencoder["reconstruction_bce"] > 0
    assert autoencoder["prior_kl"] < 0.2  # its codes are scaled to unit variance on the train split
    copier = score_generator(RepeatedImage(test_images[0]), panel, splits, reference, CONFIG)
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


def test_samples_with_nan_pixels_are_a_clear_error_not_an_eigensolver_crash(kmnist_test):
    images = image_tensor(kmnist_test)[:50].clone()
    images[3, 0, 5, 5] = float("nan")  # a diverged generator
    with pytest.raises(GlyphgenError, match="noisy_copies: 1 of 50 samples hold NaN"):
        draw_samples(NoisyCopies(images, noise_std=0.0), count=50, seed=0, batch_size=20)
