"""`wgan_gp`: Wasserstein GAN with gradient penalty (Gulrajani et al. 2017) on the DCGAN networks."""

from __future__ import annotations

from dataclasses import dataclass

from glyphgen.models.shared.blocks import critic_accuracy, gradient_penalty
from glyphgen.models.shared.conv_gan import ConvGAN, ConvGANConfig
from glyphgen.params import check_non_negative, check_positive


@dataclass
class WGANGPConfig(ConvGANConfig):
    gradient_penalty: float = 10.0  # lambda
    # Lazy penalty (Karras et al. 2020, StyleGAN2): the penalty on every penalty_every-th critic step only, weighted
    # by penalty_every, so the critic's second backward pass is paid that much less often.
    penalty_every: int = 1
    critic_steps: int = 2  # critic steps (batches) per generator step
    beta1: float = 0.0
    beta2: float = 0.9
    lr: float = 5e-4
    ema_decay: float = 0.99
    conditional: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive(self, "critic_steps", "penalty_every")
        check_non_negative(self, "gradient_penalty")


class WGANGP(ConvGAN):
    """The critic scores images (higher = more real) and learns to widen the gap between the mean scores of real
    and generated images, kept near 1-Lipschitz by a gradient penalty (lambda 10) on random interpolates; that
    gap estimates the Wasserstein distance (logged as `wasserstein`, the penalty as `gradient_penalty`) and the
    generator learns to close it. The critic takes `critic_steps` steps (one per batch) per generator step, with
    Adam beta1 0, beta2 0.9. The discriminator's accuracy is the critic's (blocks.critic_accuracy).

    The `reference` preset is the paper's recipe (Algorithm 1: lr 1e-4, n_critic 5, batch 64, lambda 10) on its
    DCGAN-style MNIST networks (generator 256-128-64 with 5x5 kernels from 7x7, critic 64-128-256, layer norm
    in the critic as the paper recommends, latent 128).

    Default vs reference, sized like dcgan's default for a CPU: dcgan's 64-32-16 generator and a 16-32-64
    critic without normalisation, 4x4 kernels, DCGAN init, 2 critic steps per generator step (the paper's 5
    leave a short run's generator too few steps), lr 5e-4 (a short run forms strokes sooner), batch 32,
    samples from an average of the generator's weights, and class-conditional as dcgan's (class batch norm,
    a projection critic). The gradient penalty costs a second backward pass through the critic on every
    batch (`penalty_every` pays it less often), so per CPU second the generator gets fewer updates than
    dcgan's; the paper's case for WGAN-GP is stability over long runs, which budgets this short do not test.
    """

    name = "wgan_gp"
    config_class = WGANGPConfig
    presets = {
        "default": WGANGPConfig(),
        "reference": WGANGPConfig(
            latent_dim=128, generator_channels=(256, 128, 64), upsamplings=2, discriminator_channels=(64, 128, 256),
            layer_norm=True, kernel_size=5, activation_slope=0.2, dcgan_init=False, critic_steps=5, lr=1e-4,
            ema_decay=0.0, batch_size=64, conditional=False,
        ),
    }

    @property
    def critic_steps(self) -> int:
        return self.config.critic_steps

    def discriminator_objective(self, real_scores, fake_scores, real, fake, critic):
        wasserstein = real_scores.mean() - fake_scores.mean()
        every = self.config.penalty_every
        # batches_trained counts this batch already; the weighted penalty's mean over steps is the penalty's.
        penalty = (every * gradient_penalty(critic, real, fake) if (self.batches_trained - 1) % every == 0
                   else wasserstein.new_zeros(()))
        return self.config.gradient_penalty * penalty - wasserstein, {
            "wasserstein": wasserstein.detach(), "gradient_penalty": penalty.detach()}

    def generator_objective(self, fake_scores):
        return -fake_scores.mean()

    def accuracy(self, real_scores, fake_scores):
        return critic_accuracy(real_scores, fake_scores)

    def realness(self, scores):
        return scores

    realness_label = "critic score"


MODEL = WGANGP
