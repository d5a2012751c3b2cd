"""Pictures of one trained model: sample grid, reconstruction pairs, 2-D latent manifold, morph GIF;
for the GANs the discriminator's eye (its verdict on real and generated images); for models with a category in
their code, the classes in shared styles and the alphabet, or one row per cluster. (Loss curves: loss_curves.py.)

Usage: python stages/render.py <dataset> <model>   -> reports/renders/<dataset>/<model>/
"""

import sys

import torch

from glyphgen.evaluation.judges import image_tensor
from glyphgen.io import atomic_path, load_image_set
from glyphgen.models.shared.adversarial import AdversarialGenerator
from glyphgen.params import check_range, get_section, load_params, parse_config
from glyphgen.rendering.discriminator_eye import discriminator_eye, save_rgb_png
from glyphgen.grids import save_png
from glyphgen.rendering.morph import morph_frames, save_gif
from glyphgen.rendering.panels import (RenderParams, alphabet_grid, category_grid, latent_manifold,
                                       reconstruction_pairs, sample_grid)
from glyphgen.stage import run_stage
from glyphgen.training.checkpoint import load_generator
from glyphgen.training.device import pick_device


def main() -> None:
    dataset, model_name = sys.argv[1], sys.argv[2]
    params = parse_config(RenderParams, get_section(load_params(), "render"), "params.yaml:render")
    torch.set_grad_enabled(False)
    # One thread: with two, the same dcgan drew sample grids that differed in a few pixels from one process to the
    # next on a busy machine (`python stages/render.py glyphs dcgan`, 4 runs: 2 different grids; one thread: 6
    # runs, 1 grid), so the stage's output, which DVC caches by hash, was not reproducible. The pictures are small.
    torch.set_num_threads(1)
    test_images = image_tensor(load_image_set(f"data/processed/{dataset}/test.npz"))
    for name in ("morph_from", "morph_to"):
        check_range(getattr(params, name), 0, len(test_images) - 1, f"params.yaml:render.{name}")
    generator = load_generator(f"models/{dataset}/{model_name}", pick_device("auto"), test_images.shape[-1])

    with atomic_path(f"reports/renders/{dataset}/{model_name}") as out:
        out.mkdir()
        save_png(out / "samples.png", sample_grid(generator, params.grid_columns, params.seed), params.scale)
        if generator.has_encoder:
            pairs = reconstruction_pairs(generator, test_images[: params.reconstructions])
            save_png(out / "reconstructions.png", pairs, params.scale)
        if generator.latent_dim == 2:
            save_png(out / "manifold.png", latent_manifold(generator, params.manifold_steps, test_images), params.scale)
        if isinstance(generator, AdversarialGenerator):
            save_rgb_png(out / "discriminator.png",
                         discriminator_eye(generator, test_images, params.grid_columns, params.seed, params.scale))
        if generator.conditional:  # rows share a style, columns are the classes; the styles of three test glyphs
            save_png(out / "classes.png", category_grid(generator, params.grid_columns, params.seed, True), params.scale)
            if hasattr(generator, "encode_style"):  # the conditional GANs have no style encoder
                save_png(out / "alphabet.png", alphabet_grid(generator, test_images[:3]), params.scale)
        elif generator.categorical_head:  # one row per category
            save_png(out / "categories.png", category_grid(generator, params.grid_columns, params.seed, False),
                     params.scale)
        if not generator.conditional:  # a conditional model's code has no noise-to-noise walk without a class
            frames = morph_frames(generator, params.morph_steps, test_images[params.morph_from],
                                  test_images[params.morph_to], params.seed)
            save_gif(out / "morph.gif", frames, params.scale)


if __name__ == "__main__":
    run_stage(main)
