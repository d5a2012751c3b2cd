"""glyphgen: generative models of Kuzushiji and font glyphs, trained and compared through a DVC pipeline."""

__version__ = "0.1.0"
