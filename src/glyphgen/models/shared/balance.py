"""Extra generator steps while the discriminator wins too easily and so saturates the generator's gradients.
Off by default: it did not measurably help (docs/experiments.md)."""

from __future__ import annotations

from dataclasses import dataclass

from glyphgen.params import check_fraction, check_positive


@dataclass
class BalanceConfig:
    enabled: bool = False
    high: float = 0.9  # discriminator accuracy above which the generator takes extra steps
    low: float = 0.75  # ... and at or below which it goes back to one step per batch
    generator_steps: int = 2  # generator steps per batch while the discriminator is ahead

    def __post_init__(self) -> None:
        check_fraction(self, "high", "low")
        check_positive(self, "generator_steps")
        if self.low > self.high:
            raise ValueError(f"low: expected a value <= high ({self.high}), got {self.low}")


class Balance:
    """Switched at each loss read-back, so the host never waits on the device."""

    def __init__(self, config: BalanceConfig) -> None:
        self.config = config
        self.discriminator_ahead = False

    def observe(self, accuracy: float) -> None:
        if accuracy > self.config.high:
            self.discriminator_ahead = True
        elif accuracy <= self.config.low:
            self.discriminator_ahead = False

    @property
    def generator_steps(self) -> int:
        return self.config.generator_steps if self.config.enabled and self.discriminator_ahead else 1
