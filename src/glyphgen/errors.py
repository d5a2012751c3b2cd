"""The one exception type the pipeline raises for bad input: its message is the whole user-facing error."""


class GlyphgenError(Exception):
    """Bad input or configuration. The message is one line naming the file or parameter and what was expected."""
