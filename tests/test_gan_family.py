"""The GAN family's own pieces: the gradient penalty, the hinge loss, DiffAugment, the discriminator's accuracy, the
G/D balance, wgan_gp's losses, class control, and the pictures of the family (discriminator's eye, data preview,
looping morph)."""

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from glyphgen.cli import class_index
from glyphgen.errors import GlyphgenError
from glyphgen.io import ImageSet
from glyphgen.models.shared.adversarial import ClassBatchNorm, Discriminator, hinge_discriminator_loss
from glyphgen.models.shared.balance import Balance, BalanceConfig
from glyphgen.models.shared.blocks import critic_accuracy, discriminator_accuracy, gradient_penalty
from glyphgen.models.shared.diff_augment import BACKGROUND, cutout, diff_augment, translation
from glyphgen.training.checkpoint import load_generator, save_checkpoint
from glyphgen.rendering.discriminator_eye import GENERATED, REAL, ROWS_EACH, discriminator_eye, panel_size, tile_size
from glyphgen.rendering.morph import loop_order, save_gif
from glyphgen.rendering.preview import data_preview, preview_rows
from tiny_models import tiny_model


def linear_critic(weights: torch.Tensor) -> nn.Module:
    critic = nn.Sequential(nn.Flatten(), nn.Linear(weights.numel(), 1))
    with torch.no_grad():
        critic[1].weight.copy_(weights.flatten()[None])
    return critic


@pytest.mark.parametrize("norm", [3.0, 1.0, 0.5])
def test_gradient_penalty_of_a_linear_critic_is_its_norm_minus_one_squared(norm):
    # A linear critic's gradient is its weight vector everywhere, so the penalty is (||w|| - 1)^2 exactly.
    weights = torch.randn(1, 4, 4)
    critic = linear_critic(weights / weights.norm() * norm)
    penalty = gradient_penalty(critic, torch.rand(8, 1, 4, 4), torch.rand(8, 1, 4, 4))
    assert penalty.item() == pytest.approx((norm - 1) ** 2, abs=1e-5)
    penalty.backward()  # the penalty trains the critic: its gradient reaches the weights
    assert critic[1].weight.grad is not None and critic[1].weight.grad.norm() > 0 or norm == 1.0


def test_gradient_penalty_is_taken_between_real_and_generated():
    # A critic whose gradient norm is 1 only between 0 and 1 (|x| grows as x^2/2 there) sees the interpolates.
    critic = lambda images: images.flatten(1).pow(2).sum(1) / 2  # noqa: E731 -- gradient x, norm |x|
    real, fake = torch.ones(64, 1, 1, 1), torch.zeros(64, 1, 1, 1)
    torch.manual_seed(0)
    penalty = gradient_penalty(critic, real, fake)
    # mix ~ U(0, 1): E[(mix - 1)^2] = 1/3
    assert penalty.item() == pytest.approx(1 / 3, abs=0.08)


def test_discriminator_accuracy_on_hand_made_logits():
    real = torch.tensor([2.0, -1.0, 0.5, 3.0])  # 3 of 4 called real (logit > 0)
    fake = torch.tensor([-2.0, 0.0, 1.0, -0.1])  # 3 of 4 called generated (logit <= 0)
    accuracy = discriminator_accuracy(real, fake)
    assert accuracy["d_accuracy_real"].item() == 0.75 and accuracy["d_accuracy_fake"].item() == 0.75
    assert not accuracy["d_accuracy_real"].requires_grad


def test_critic_accuracy_compares_each_score_with_the_other_sides_mean():
    real = torch.tensor([5.0, 1.0, 3.0, -1.0])  # mean 2
    fake = torch.tensor([0.0, 2.5, -2.0, 0.5])  # mean 0.25
    accuracy = critic_accuracy(real, fake)
    assert accuracy["d_accuracy_real"].item() == 0.75  # 5, 1, 3 above 0.25
    assert accuracy["d_accuracy_fake"].item() == 0.75  # 0, -2, 0.5 below 2
    same = critic_accuracy(torch.zeros(4), torch.zeros(4))
    assert same["d_accuracy_real"].item() == 0 and same["d_accuracy_fake"].item() == 0


def test_balance_switches_at_its_thresholds():
    balance = Balance(BalanceConfig(enabled=True, high=0.9, low=0.7, generator_steps=3))
    steps = []
    for accuracy in [0.8, 0.9, 0.91, 0.8, 0.71, 0.7, 0.95, 0.5]:
        balance.observe(accuracy)
        steps.append(balance.generator_steps)
    # Above 0.9 on, at or below 0.7 off, unchanged in between (hysteresis).
    assert steps == [1, 1, 3, 3, 3, 1, 3, 1]
    off = Balance(BalanceConfig(enabled=False))
    off.observe(1.0)
    assert off.generator_steps == 1


def test_balance_thresholds_are_checked():
    with pytest.raises(ValueError, match="low: expected a value <= high"):
        BalanceConfig(high=0.6, low=0.8)


LABELS = torch.arange(16) % 10  # of the batch below


@pytest.fixture(scope="module")
def batch():
    return torch.rand(16, 1, 28, 28)


@pytest.mark.parametrize("name", ["gan", "dcgan", "wgan_gp"])
def test_gans_log_accuracy_and_the_balance_they_apply(name, batch):
    torch.manual_seed(0)
    model = tiny_model(name, balance={"enabled": True, "high": 0.8, "low": 0.6, "generator_steps": 2})
    optimizers = model.configure_optimizers()
    first = model.train_step(batch, LABELS, optimizers)
    assert {"d_accuracy_real", "d_accuracy_fake", "generator_steps"} <= set(first)
    assert all(value.dim() == 0 and not value.requires_grad for value in first.values())
    assert first["generator_steps"].item() == 1
    model.observe_losses({"d_accuracy_real": 1.0, "d_accuracy_fake": 0.9})  # the loop's read-back: D is ahead
    model.batches_trained = 0  # wgan_gp's generator turn
    assert model.train_step(batch, LABELS, optimizers)["generator_steps"].item() == 2
    state = model.state_dict()
    fresh = tiny_model(name, balance={"enabled": True, "high": 0.8, "low": 0.6, "generator_steps": 2})
    fresh.load_state_dict(state)  # the schedule resumes with the weights
    assert fresh.batches_trained == 1 and fresh.balance.discriminator_ahead


def test_wgan_gp_trains_the_generator_every_critic_steps_batches(batch):
    model = tiny_model("wgan_gp", critic_steps=3)
    optimizers = model.configure_optimizers()
    steps = [model.train_step(batch, LABELS, optimizers)["generator_steps"].item() for _ in range(7)]
    assert steps == [1, 0, 0, 1, 0, 0, 1]


def test_wgan_gp_losses_over_a_few_steps():
    torch.manual_seed(0)
    squares = torch.zeros(16, 1, 28, 28)
    squares[:, :, 8:20, 8:20] = 1  # real images far from the grey an untrained generator draws
    # The generator steps once (a fixed target); the default N(0, 0.02) init would keep the scores tiny for long.
    model = tiny_model("wgan_gp", lr=1e-3, critic_steps=100, dcgan_init=False, conditional=False)
    optimizers = model.configure_optimizers()
    history = [model.train_step(squares, LABELS, optimizers) for _ in range(12)]
    for losses in history:
        assert {"wasserstein", "gradient_penalty", "generator"} <= set(losses)
        expected = 10 * losses["gradient_penalty"] - losses["wasserstein"]
        assert losses["loss"].item() == pytest.approx(expected.item(), rel=1e-4, abs=1e-5)
        assert losses["gradient_penalty"].item() >= 0
    # The critic learns to tell the squares from generated images: the estimate grows, and so does its accuracy.
    assert history[-1]["wasserstein"].item() > history[0]["wasserstein"].item() + 0.2
    assert history[-1]["d_accuracy_real"].item() == 1 and history[-1]["d_accuracy_fake"].item() == 1


@pytest.mark.parametrize("image_size", [28, 64])
def test_wgan_gp_critic_has_no_batch_norm_and_scores_each_image(image_size):
    for layer_norm in (False, True):
        model = tiny_model("wgan_gp", image_size, layer_norm=layer_norm)
        assert not any(isinstance(m, nn.BatchNorm2d) for m in model.discriminator.modules())
        assert any(isinstance(m, nn.GroupNorm) for m in model.discriminator.modules()) == layer_norm
        images = torch.rand(3, 1, image_size, image_size)
        assert model.discriminator(images).shape == (3, 1)
        assert model.draw(3, seed=0).shape == (3, 1, image_size, image_size)


def test_hinge_loss_on_hand_made_logits():
    real = torch.tensor([2.0, 0.5, -1.0])  # margins 0, 0.5, 2
    fake = torch.tensor([-3.0, 0.0, 1.0])  # margins 0, 1, 2
    assert hinge_discriminator_loss(real, fake).item() == pytest.approx((0 + 0.5 + 2) / 3 + (0 + 1 + 2) / 3)
    model = tiny_model("dcgan", loss="hinge")
    assert model.generator_objective(fake).item() == pytest.approx(2 / 3)  # minus the mean logit


def one_pixel_images(count: int, side: int) -> torch.Tensor:
    images = torch.full((count, 1, side, side), BACKGROUND)
    images[:, :, side // 2, side // 2] = 1.0
    return images


def test_translation_moves_each_image_whole_and_fills_with_background():
    torch.manual_seed(0)
    shifted = translation(one_pixel_images(64, 16), ratio=0.125)  # up to 2 pixels each way
    assert shifted.shape == (64, 1, 16, 16)
    assert torch.all((shifted == 1).sum(dim=(1, 2, 3)) == 1)  # the lit pixel moved, nothing else appeared
    assert torch.all((shifted == 1) | (shifted == BACKGROUND))
    rows, columns = (shifted[:, 0] == 1).nonzero()[:, 1:].T
    assert rows.sub(8).abs().max() <= 2 and columns.sub(8).abs().max() <= 2
    assert len(set(zip(rows.tolist(), columns.tolist()))) > 10  # each image drawn its own shift


def test_cutout_blanks_one_square_per_image_and_passes_gradients():
    torch.manual_seed(0)
    images = torch.ones(32, 1, 16, 16, requires_grad=True)
    cut = cutout(images, ratio=0.5)  # an 8 x 8 square, possibly overhanging the border
    blanked = (cut == BACKGROUND).sum(dim=(1, 2, 3))
    assert torch.all((blanked >= 16) & (blanked <= 64)) and (blanked == 64).any()
    diff_augment(images, ("translation", "cutout")).sum().backward()
    assert images.grad.sum() > 0  # the generator learns through the augmentation


def test_projection_discriminator_adds_the_class_embeddings_inner_product():
    torch.manual_seed(0)
    plain = Discriminator(nn.Flatten(), (1, 2, 2), num_classes=0, spectral_norm=False)
    conditional = Discriminator(nn.Flatten(), (1, 2, 2), num_classes=3, spectral_norm=False)
    conditional.score.load_state_dict(plain.score.state_dict())
    images, labels = torch.randn(5, 1, 2, 2), torch.tensor([0, 1, 2, 1, 0])
    projection = (conditional.projection.weight[labels] * images.flatten(1)).sum(dim=1, keepdim=True)
    assert torch.allclose(conditional(images, labels), plain(images) + projection, atol=1e-6)
    assert torch.allclose(conditional(images), plain(images))  # no label: the image alone


def test_class_batch_norm_scales_and_shifts_by_class():
    norm = ClassBatchNorm(nn.BatchNorm2d(2), num_classes=3)
    with torch.no_grad():
        norm.scale.weight[2] = torch.tensor([2.0, -1.0])
        norm.shift.weight[2] = torch.tensor([0.5, 3.0])
    inputs, labels = torch.randn(6, 2, 3, 3), torch.tensor([0, 2, 1, 2, 0, 1])
    norm.labels = labels
    normalised = nn.BatchNorm2d(2, affine=False)(inputs)
    outputs = norm(inputs)
    assert torch.allclose(outputs[labels != 2], normalised[labels != 2], atol=1e-5)  # classes 0, 1: as initialised
    expected = normalised[labels == 2] * torch.tensor([2.0, -1.0])[:, None, None] + torch.tensor([0.5, 3.0])[:, None, None]
    assert torch.allclose(outputs[labels == 2], expected, atol=1e-5)


def test_a_conditional_generator_normalises_by_class_everywhere():
    model = tiny_model("dcgan", conditional=True)
    norms = [m for m in model.generator.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == 3 and not any(norm.affine for norm in norms)  # projection + 2 convs, scaled by class
    assert sum(isinstance(m, ClassBatchNorm) for m in model.generator.modules()) == 3


def test_wgan_gp_lazy_penalty_is_paid_every_few_steps_at_that_weight(batch):
    torch.manual_seed(0)
    model = tiny_model("wgan_gp", penalty_every=3)
    optimizers = model.configure_optimizers()
    penalties = [model.train_step(batch, LABELS, optimizers)["gradient_penalty"].item() for _ in range(6)]
    assert [value > 0 for value in penalties] == [True, False, False, True, False, False]
    first_steps = []
    for every in (1, 3):  # the same weights and interpolates: the lazy step's penalty is weighted 3 times
        torch.manual_seed(0)
        model = tiny_model("wgan_gp", penalty_every=every)
        first_steps.append(model.train_step(batch, LABELS, model.configure_optimizers())["gradient_penalty"].item())
    assert first_steps[1] == pytest.approx(3 * first_steps[0], rel=1e-4)


def test_the_auxiliary_class_loss_adds_to_both_players_losses(batch):
    torch.manual_seed(0)
    auxiliary = tiny_model("dcgan", conditional=True, class_loss_weight=2.0)
    assert tiny_model("dcgan", conditional=True).discriminator.classifier is None  # no head without the loss
    with torch.no_grad():  # a head that knows nothing: cross-entropy log(10) on any image
        auxiliary.discriminator.classifier.weight.zero_()
        auxiliary.discriminator.classifier.bias.zero_()
    plain = tiny_model("dcgan", conditional=True)
    plain.load_state_dict(auxiliary.state_dict(), strict=False)  # the same networks but for the head
    labels = torch.arange(len(batch)) % 10
    losses = []
    for model in (auxiliary, plain):
        torch.manual_seed(1)  # the same noise
        losses.append(model.train_step(batch, labels, model.configure_optimizers()))
    assert losses[0]["class_loss"].item() == pytest.approx(np.log(10), rel=1e-5)
    for player in ("discriminator", "generator"):
        assert losses[0][player].item() == pytest.approx(losses[1][player].item() + 2 * np.log(10), rel=1e-4)


def two_class_images(count: int, side: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Class 0 lights the left half, class 1 the right half."""
    labels = torch.arange(count) % 2
    images = torch.zeros(count, 1, side, side)
    images[labels == 0, :, :, : side // 2] = 1
    images[labels == 1, :, :, side // 2:] = 1
    return images, labels


def test_a_conditional_gan_draws_the_class_it_is_asked_for():
    torch.manual_seed(0)
    model = tiny_model("gan", image_size=8, conditional=True, lr=3e-3, ema_decay=0.0)
    optimizers = model.configure_optimizers()
    images, labels = two_class_images(32, 8)
    for _ in range(100):
        model.train_step(images, labels, optimizers)
    drawn = model.eval().sample_categories(labels, torch.Generator().manual_seed(0))
    left_minus_right = drawn[..., :4].mean(dim=(1, 2, 3)) - drawn[..., 4:].mean(dim=(1, 2, 3))
    assert torch.all(left_minus_right[labels == 0] > 0) and torch.all(left_minus_right[labels == 1] < 0)


@pytest.mark.parametrize("name", ["gan", "dcgan", "wgan_gp"])
def test_conditional_gans_sample_with_and_without_a_class(name, tmp_path):
    model = tiny_model(name, conditional=True).eval()
    model.class_names = list("ABCDEFGHIJ")
    assert model.conditional and model.categories == 10
    asked = torch.tensor([3, 3, 7])
    assert model.sample_categories(asked).shape == (3, 1, 28, 28)
    assert model.draw(4, seed=0).shape == (4, 1, 28, 28)  # the classes drawn at random
    # One class at a time: the sample's images differ only where the class does.
    codes = torch.randn(2, model.latent_dim)
    same_code = model.decode_categories(codes[[0, 0]], torch.tensor([3, 7]))
    assert not torch.equal(same_code[0], same_code[1])
    assert torch.equal(model.decode_categories(codes, torch.tensor([3, 3])),
                       model.decode_categories(codes, torch.tensor([3, 3])))
    save_checkpoint(tmp_path / name / "model.pt", model)
    loaded = load_generator(tmp_path / name, "cpu")
    assert loaded.conditional and class_index(loaded, "H") == 7
    assert torch.equal(loaded.decode_categories(codes, asked[:2]), model.decode_categories(codes, asked[:2]))


def test_an_unconditional_gan_refuses_a_label():
    with pytest.raises(GlyphgenError, match="--label: dcgan is unconditional"):
        class_index(tiny_model("dcgan", conditional=False), "3")


def tiles_framed(panel: np.ndarray, side: int, columns: int, scale: int, colour) -> int:
    width, height, _, title = tile_size(side, scale)
    count = 0
    for row in range(2 * ROWS_EACH):
        for column in range(columns):
            left, top = 4 + column * (width + 4), title + 4 + row * (height + 4)
            count += tuple(panel[top + title, left]) == colour  # the frame's top-left corner
    return count


@pytest.mark.parametrize("name", ["gan", "wgan_gp"])
def test_discriminator_eye_panel_size_and_tiles(name):
    model = tiny_model(name).eval()
    test_images = torch.rand(20, 1, 28, 28)
    panel = discriminator_eye(model, test_images, columns=4, seed=0, scale=2)
    assert panel.shape == (*reversed(panel_size(28, 4, 2)), 3)
    assert tiles_framed(panel, 28, 4, 2, REAL) == ROWS_EACH * 4
    assert tiles_framed(panel, 28, 4, 2, GENERATED) == ROWS_EACH * 4


def glyph_set(per_class: int, fonts: int) -> ImageSet:
    labels = np.repeat(np.arange(3), per_class)
    images = np.random.default_rng(0).integers(0, 255, (len(labels), 8, 8), dtype=np.uint8)
    font = np.array([f"font{i % fonts}" for i in range(len(labels))])
    augmented = np.arange(len(labels)) % 2 == 1  # the odd images: originals sit in fonts 0, 2, 4 (of 6)
    return ImageSet(images, labels, ["A", "B", "C"], extras={"font": font, "augmented": augmented})


def test_data_preview_has_one_row_per_class():
    image_set = glyph_set(per_class=12, fonts=6)
    picture = data_preview(image_set, columns=4, seed=0)
    assert picture.shape == (3 * 10 + 2, 4 * 10 + 2)
    for row, indices in enumerate(preview_rows(image_set, 4, seed=0)):
        assert len(indices) == 4 and set(image_set.labels[indices]) == {row}
        # One image per font first, originals first among them: the originals' three fonts, then a fourth font.
        assert len(set(image_set.extras["font"][indices])) == 4
        assert list(image_set.extras["augmented"][indices]) == [False, False, False, True]
    # A class with fewer images than columns leaves black tiles, so rows stay rows.
    small = data_preview(glyph_set(per_class=2, fonts=2), columns=4, seed=0)
    assert small.shape == (3 * 10 + 2, 4 * 10 + 2) and not small[2:10, 22:30].any()


def test_morph_loops_forth_and_back_holding_each_end():
    assert loop_order(5, hold=3) == [0, 0, 0, 1, 2, 3, 4, 4, 4, 3, 2, 1]
    assert loop_order(2, hold=1) == [0, 1]


def test_morph_gif_holds_its_ends(tmp_path):
    frames = np.stack([np.full((4, 4), 40 * i, dtype=np.uint8) for i in range(5)])
    save_gif(tmp_path / "morph.gif", frames, scale=1, frame_ms=50, hold=3)
    with Image.open(tmp_path / "morph.gif") as gif:
        durations, firsts = [], []
        for index in range(gif.n_frames):
            gif.seek(index)
            durations.append(gif.info["duration"])
            firsts.append(np.asarray(gif.convert("L"))[0, 0])
    assert firsts == [0, 40, 80, 120, 160, 120, 80, 40]
    assert durations == [150, 50, 50, 50, 150, 50, 50, 50]
