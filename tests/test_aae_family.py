"""The adversarial autoencoder family (aae_supervised, aae_semi, aae_cluster): phases, the labelled subset, the
category scores and the commands that draw chosen classes. Shapes, presets, checkpoints and seeding are checked
for every model in test_models.py."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from glyphgen.cli import main
from glyphgen.errors import GlyphgenError
from glyphgen.evaluation.categories import accuracy, cluster_accuracy, nmi, transfer_accuracy
from glyphgen.models import model_class
from glyphgen.models.aae_semi import labelled_subset, random_deformation
from glyphgen.models.shared.code_mixture import CategoryCodeMixture
from glyphgen.models.shared.style_transfer import style_in_categories
from glyphgen.rendering.panels import alphabet_grid, category_grid
from glyphgen.training.checkpoint import save_checkpoint
from tiny_models import kmnist_slice, tiny_model

FAMILY = ["aae_supervised", "aae_semi", "aae_cluster"]
# The loss of each phase: reconstruction, each discriminator's (regularisation), and aae_semi's supervised ones.
DISCRIMINATORS = {"aae": [""], "aae_supervised": ["style_"], "aae_semi": ["style_", "category_"],
                  "aae_cluster": ["style_", "category_"]}
PHASE_LOSSES = {
    "aae": ["reconstruction", "discriminator"],
    "aae_supervised": ["reconstruction", "style_discriminator"],
    "aae_semi": ["reconstruction", "style_discriminator", "category_discriminator", "supervised", "consistency",
                 "baseline"],
    "aae_cluster": ["reconstruction", "style_discriminator", "category_discriminator"],
}


@pytest.fixture(scope="module")
def tiny_set():
    image_set = kmnist_slice(64)
    return torch.from_numpy(image_set.images).unsqueeze(1), torch.from_numpy(image_set.labels)


@pytest.mark.parametrize("name", PHASE_LOSSES)
def test_each_phase_loss_falls_over_a_few_steps(name, tiny_set):
    images, labels = tiny_set
    torch.manual_seed(0)
    # Without the encoder fighting back (adversarial weight 0), each discriminator's own phase must learn.
    # aae_semi: at confidence 0 its unlabelled phase takes every guess of its untrained head, and its labelled
    # batches are undeformed (deformed, the supervised loss is too noisy for 20 steps to show the fall).
    semi = {"confidence": 0.0, "consistency_weight": 0.2, "deformation": 0.0, "labelled_batch_size": 20}
    model = tiny_model(name, lr=3e-3, adversarial_weight=0.0, **(semi if name == "aae_semi" else {}))
    model.start_training(images, labels, seed=0)
    optimizers = model.configure_optimizers()
    history = [model.train_step(images.float() / 255, labels, optimizers) for _ in range(20)]
    for loss in PHASE_LOSSES[name]:
        values = [step[loss].item() for step in history]
        assert sum(values[-3:]) < sum(values[:3]), (loss, values)
    accuracies = [f"{role}d_accuracy_{side}" for role in DISCRIMINATORS[name] for side in ("real", "fake")]
    assert sorted(key for key in history[0] if "d_accuracy" in key) == sorted(accuracies)
    assert all(0 <= history[-1][key] <= 1 for key in accuracies)


@pytest.mark.parametrize("name", FAMILY)
def test_a_style_discriminator_given_the_category_sees_prior_and_codes_beside_the_same_categories(name, tiny_set,
                                                                                                 monkeypatch):
    images, labels = tiny_set
    model = tiny_model(name, style_given_category=True)
    model.start_training(images, labels, seed=0)
    seen = {}

    def record(discriminator, optimizer, prior, codes, role=""):
        seen[role] = (discriminator, prior, codes)
        return {}

    monkeypatch.setattr(model, "regularisation_phase", record)
    model.train_step(images.float() / 255, labels, model.configure_optimizers())
    discriminator, prior, codes = seen["style_"]
    style_dim = model.style_dim
    assert discriminator[0].in_features == style_dim + model.categories == prior.shape[1] == codes.shape[1]
    assert torch.equal(prior[:, style_dim:], codes[:, style_dim:])  # only the style's law tells them apart
    if name == "aae_supervised":
        assert torch.equal(codes[:, style_dim:], model.one_hot(labels))
    else:
        assert torch.allclose(codes[:, style_dim:].sum(1), torch.ones(len(labels)))  # the inferred softmax
    assert not torch.equal(prior[:, :style_dim], codes[:, :style_dim])


def test_the_labelled_subset_is_balanced_seeded_and_drawn_from_the_given_labels_only():
    labels = np.repeat(np.arange(10), 300)
    for n_labels in (100, 1000):
        chosen = labelled_subset(labels, n_labels, seed=0)
        assert len(set(chosen)) == n_labels and chosen.max() < len(labels)
        assert set(np.bincount(labels[chosen])) == {n_labels // 10}
        assert np.array_equal(chosen, labelled_subset(labels, n_labels, seed=0))
        assert not np.array_equal(chosen, labelled_subset(labels, n_labels, seed=1))
    uneven = np.bincount(labels[labelled_subset(labels, 105, seed=0)])
    assert uneven.sum() == 105 and uneven.max() - uneven.min() == 1
    with pytest.raises(GlyphgenError, match="n_labels: expected at least one labelled image per class"):
        labelled_subset(labels, 5, seed=0)
    with pytest.raises(GlyphgenError, match="n_labels: class 0 has 300 training images, 301 needed"):
        labelled_subset(labels, 3010, seed=0)


def test_aae_semi_learns_from_the_training_images_it_is_started_with_only(tiny_set):
    images, labels = tiny_set
    model = tiny_model("aae_semi", n_labels=20)
    model.start_training(images, labels, seed=0)
    assert len(model.labelled_images) == 20 and np.bincount(model.labelled_labels.numpy()).tolist() == [2] * 10
    rows = {bytes(image.numpy()) for image in images}
    assert all(bytes(image.numpy()) in rows for image in model.labelled_images)
    assert "labelled_images" not in "".join(model.state_dict())  # not saved with the model


def test_random_deformation_moves_each_image_its_own_small_way():
    torch.manual_seed(0)
    images = torch.zeros(8, 1, 28, 28)
    images[:, :, 10:18, 12:16] = 1  # the same bar in every image
    assert random_deformation(images, 0) is images
    deformed = random_deformation(images, 1.0)
    assert deformed.shape == images.shape and 0 <= deformed.min() and deformed.max() <= 1
    assert all(not torch.equal(deformed[0], other) for other in deformed[1:])  # one map per image
    ink = deformed.sum((1, 2, 3)) / images.sum((1, 2, 3))
    assert ((0.7 < ink) & (ink < 1.3)).all()  # a slant or a stretch, not a different picture
    assert deformed[:, :, :4].sum() == 0 and deformed[:, :, -4:].sum() == 0  # the bar stays near the centre
    torch.manual_seed(0)
    assert torch.equal(random_deformation(images, 1.0), deformed)


def test_the_unlabelled_phase_learns_from_confident_guesses_only(tiny_set):
    images = tiny_set[0].float() / 255
    torch.manual_seed(0)
    assert tiny_model("aae_semi", confidence=0.99).consistency_loss(images).item() == 0  # an untrained head is unsure
    model = tiny_model("aae_semi", confidence=0.0, consistency_deformation=0.0, consistency_weight=1.0)
    logits = model.classify(images)  # undeformed, every image's target is the head's own guess
    expected = F.cross_entropy(logits, logits.argmax(1))
    assert model.consistency_loss(images).item() == pytest.approx(expected.item(), rel=1e-5)
    optimizers = model.configure_optimizers()
    assert "consistency" in model.train_step(images, tiny_set[1], optimizers)
    reference = model_class("aae_semi").presets["reference"]  # the paper's recipe has no such phase
    assert reference.consistency_weight == 0 and reference.deformation == 0


def test_accuracy_cluster_accuracy_and_nmi_on_hand_made_cases():
    assert accuracy(np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2])) == 0.75
    # Cluster 5 is mostly class 1, cluster 7 class 0, cluster 3 has no training image (its test image is wrong).
    train_clusters, train_labels = np.array([5, 5, 5, 7, 7]), np.array([1, 1, 0, 0, 0])
    test_clusters, test_labels = np.array([5, 7, 7, 3]), np.array([1, 0, 1, 0])
    assert cluster_accuracy(train_clusters, train_labels, test_clusters, test_labels) == 0.5
    assert nmi(np.array([3, 3, 1, 1]), np.array([0, 0, 1, 1])) == pytest.approx(1.0)
    assert nmi(np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1])) == pytest.approx(0.0)


def test_nmi_is_scikit_learns():
    from sklearn.metrics import normalized_mutual_info_score

    rng = np.random.default_rng(0)
    for size, classes, clusters in [(1, 1, 1), (5, 1, 3), (5, 3, 1), (200, 10, 10), (300, 52, 20), (50, 4, 30)]:
        labels = rng.integers(0, classes, size)
        found = (labels * rng.integers(0, 2) + rng.integers(0, clusters, size)) % clusters  # some follow the labels
        assert nmi(found, labels) == pytest.approx(normalized_mutual_info_score(labels, found), abs=1e-12)


class BrightnessJudge(torch.nn.Module):
    """Judges an image's class by its mean brightness: class c at c / 2 (three classes)."""

    def __init__(self) -> None:
        super().__init__()
        self.centres = torch.nn.Parameter(torch.tensor([0.0, 0.5, 1.0]), requires_grad=False)

    def features(self, images):
        return images.mean(dim=(1, 2, 3))[:, None]

    def head(self, features):
        return -(features - self.centres).abs()


def test_transfer_accuracy_judges_every_style_drawn_in_every_class():
    # A decoder that draws class c at brightness c / 2, except class 2, which it draws as class 0 when the
    # style (the test image's brightness) is below 0.5: half the test images' styles.
    def decode_categories(styles, labels):
        wrong = (labels == 2) & (styles[:, 0] < 0.5)
        return torch.where(wrong, 0, labels).float().div(2)[:, None, None, None].expand(-1, 1, 4, 4)

    generator = SimpleNamespace(num_classes=3, class_names=["0", "1", "2"], device=torch.device("cpu"), styles=None,
                                encode_style=lambda images: images.mean(dim=(1, 2, 3))[:, None],
                                decode_categories=decode_categories)
    test_images = torch.linspace(0, 1, 8)[:, None, None, None].expand(-1, 1, 4, 4)  # brightness 0 ... 1
    judge = BrightnessJudge()
    # 24 // 3 = 8 test images in 3 classes: 24 drawings, of which the 4 dark styles' class 2 is judged 0.
    assert transfer_accuracy(generator, judge, test_images, count=24, batch_size=5) == pytest.approx(20 / 24)
    # Only 2 test images (both dark): 6 drawings, 2 of them wrong.
    assert transfer_accuracy(generator, judge, test_images[:2], count=24, batch_size=5) == pytest.approx(4 / 6)


@pytest.mark.parametrize("image_size, mixture_components", [(28, 0), (28, 2), (64, 2)])
def test_category_grids_and_the_alphabet_have_one_tile_per_class(image_size, mixture_components):
    supervised = tiny_model("aae_supervised", image_size, mixture_components=mixture_components)
    cluster = tiny_model("aae_cluster", image_size, mixture_components=mixture_components)
    side = image_size + 2  # tile() puts a 2-pixel gap around each image
    assert category_grid(supervised, 3, seed=0, style_rows=True).shape == (3 * side + 2, 10 * side + 2)
    assert category_grid(cluster, 3, seed=0, style_rows=False).shape == (6 * side + 2, 3 * side + 2)
    glyphs = torch.rand(2, 1, image_size, image_size)
    assert alphabet_grid(supervised, glyphs).shape == (2 * side + 2, 11 * side + 2)


def test_a_style_moves_into_another_category_by_its_offset_from_its_own_form():
    # Category 0 has two forms (a third of its styles near (-5, 0), two thirds near (-5, 4)); category 1 has a
    # rare form near (5, -4) and its commonest near (5, 1).
    generator = torch.Generator().manual_seed(0)
    blob = lambda n, x, y: torch.randn(n, 2, generator=generator) * 0.1 + torch.tensor([x, y])  # noqa: E731
    styles = torch.cat([blob(100, -5.0, 0.0), blob(200, -5.0, 4.0), blob(100, 5.0, -4.0), blob(200, 5.0, 1.0)])
    mixtures = CategoryCodeMixture(dim=2, categories=2, components=2)
    mixtures.fit(styles, torch.arange(600) // 300, seed=0)
    model = SimpleNamespace(styles=mixtures)
    style = torch.tensor([-4.8, 0.1])  # of category 0's rarer form, 0.2 right of and 0.1 above its centre
    moved = style_in_categories(model, style[None], torch.tensor([0, 1]))  # its category found by density
    offset = style - styles[:100].mean(0)
    assert torch.allclose(moved, torch.stack([styles[100:300].mean(0), styles[400:].mean(0)]) + offset, atol=1e-4)
    # Two styles at once, one told its category: (5.1, -4) is category 1's rare form, 0.1 right of its centre.
    both = style_in_categories(model, torch.stack([style, torch.tensor([5.1, -4.0])]), torch.tensor([1]),
                               sources=torch.tensor([0, 1]))
    assert torch.allclose(both[0], styles[400:].mean(0) + offset, atol=1e-4)
    assert torch.allclose(both[1], styles[400:].mean(0) + torch.tensor([5.1, -4.0]) - styles[300:400].mean(0),
                          atol=1e-4)
    # Without the mixtures the style is the paper's: free of the character, decoded beside any class as it is.
    assert torch.equal(style_in_categories(SimpleNamespace(styles=None), style[None], torch.tensor([0, 1])),
                       style.expand(2, -1))


@pytest.fixture
def model_dirs(tmp_path):
    torch.manual_seed(0)
    supervised = tiny_model("aae_supervised")
    supervised.class_names = list("ABCDEFGHIJ")
    save_checkpoint(tmp_path / "aae_supervised" / "model.pt", supervised)
    save_checkpoint(tmp_path / "aae" / "model.pt", tiny_model("aae"))
    return tmp_path


def test_sample_draws_the_class_a_label_names(model_dirs, tmp_path):
    model_dir = str(model_dirs / "aae_supervised")
    for label, name in [("C", "c.npy"), ("2", "two.npy"), ("D", "d.npy")]:
        assert main(["sample", model_dir, "-n", "4", "--label", label, "-o", str(tmp_path / name)]) == 0
    by_name, by_index, other = (np.load(tmp_path / name) for name in ("c.npy", "two.npy", "d.npy"))
    assert by_name.shape == (4, 28, 28) and np.array_equal(by_name, by_index) and not np.array_equal(by_name, other)
    assert main(["sample", model_dir, "-n", "4", "--label", "C", "-o", str(tmp_path / "c.png")]) == 0
    assert Image.open(tmp_path / "c.png").size == (2 * (2 * 30 + 2),) * 2


@pytest.mark.parametrize("model, label, message", [
    ("aae_supervised", "Z", "--label: expected a class name (A B C D E F G H I J) or an index below 10, got 'Z'"),
    ("aae_supervised", "10", "--label: expected a class name (A B C D E F G H I J) or an index below 10, got '10'"),
    ("aae", "A", "--label: aae is unconditional (it cannot draw a chosen class)"),
])
def test_a_bad_or_unusable_label_is_a_one_line_error_and_writes_nothing(model_dirs, tmp_path, capsys, model, label,
                                                                        message):
    output = tmp_path / "out.png"
    assert main(["sample", str(model_dirs / model), "-n", "4", "--label", label, "-o", str(output)]) == 1
    assert capsys.readouterr().err.strip() == f"error: {message}"
    assert not output.exists()


def test_alphabet_draws_every_class_in_the_style_of_any_glyph_image(model_dirs, tmp_path):
    # Dark ink on light paper at 50 x 40: the command normalises it as convert_glyphs does.
    picture = np.full((50, 40), 230, np.uint8)
    picture[10:40, 15:22] = 20
    Image.fromarray(picture).save(tmp_path / "glyph.png")
    output = tmp_path / "alphabet.png"
    assert main(["alphabet", str(model_dirs / "aae_supervised"), "--style", str(tmp_path / "glyph.png"),
                 "-o", str(output)]) == 0
    assert Image.open(output).size == (2 * (11 * 30 + 2), 2 * (30 + 2))


def test_alphabet_errors_are_one_line_and_write_nothing(model_dirs, tmp_path, capsys):
    (tmp_path / "broken.png").write_bytes(b"not a png")
    Image.fromarray(np.full((20, 20), 255, np.uint8)).save(tmp_path / "blank.png")
    Image.fromarray(np.full((20, 20), 0, np.uint8)).save(tmp_path / "any.png")
    output = tmp_path / "alphabet.png"
    cases = [
        (model_dirs / "aae_supervised", "broken.png", f"{tmp_path / 'broken.png'}: not a readable image ("),
        (model_dirs / "aae_supervised", "missing.png", f"{tmp_path / 'missing.png'}: not a readable image ("),
        (model_dirs / "aae_supervised", "blank.png", f"{tmp_path / 'blank.png'}: a blank image"),
        (model_dirs / "aae", "any.png", f"{model_dirs / 'aae'}: aae has no style encoder"),
    ]
    for model_dir, style, message in cases:
        assert main(["alphabet", str(model_dir), "--style", str(tmp_path / style), "-o", str(output)]) == 1
        error = capsys.readouterr().err.strip()
        assert error.startswith(f"error: {message}") and "\n" not in error
        assert not output.exists()


def test_the_scorecard_adds_each_models_category_scores(panel, kmnist_train, kmnist_test):
    from glyphgen.evaluation.judges import image_tensor
    from glyphgen.evaluation.scorecard import EvaluateConfig, ReferenceStats, Splits, score_generator

    splits = Splits(image_tensor(kmnist_train), image_tensor(kmnist_test), kmnist_train.labels, kmnist_test.labels,
                    kmnist_train.class_names)
    config = EvaluateConfig(num_samples=200, fid_bootstrap=0, encoded_images=100, memorisation_samples=100,
                            kid_subsets=2, kid_subset_size=100, two_sample_images=100, two_sample_epochs=1)
    reference = ReferenceStats.measure(panel, splits, config)
    expected = {"aae_supervised": {"conditional_accuracy", "transfer_accuracy"}, "aae_cluster": {"cluster_accuracy", "nmi"},
                "aae_semi": {"categorical_accuracy", "baseline_accuracy", "n_labels"}, "aae": set()}
    extra = {"conditional_accuracy", "transfer_accuracy", "cluster_accuracy", "nmi", "categorical_accuracy", "baseline_accuracy", "n_labels"}
    for name, keys in expected.items():
        scores = score_generator(tiny_model(name), panel, splits, reference, config)
        assert extra & set(scores) == keys, name
        assert all(0 <= scores[key] <= 1 for key in keys - {"n_labels"})
