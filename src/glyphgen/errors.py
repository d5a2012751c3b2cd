class GlyphgenError(Exception):
    """The one error for bad input: its one-line message, naming the file or parameter, is all the user sees."""
