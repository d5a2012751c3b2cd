"""The package reads as a manual, not a lab notebook: docstrings and comments say why in a line or two, and
longer explanations live in docs/. Prose is every docstring line and every line holding a comment."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path


PACKAGE = Path(__file__).resolve().parents[1] / "src" / "glyphgen"
MAX_PROSE_SHARE = 0.12


def prose_lines(text: str) -> set[int]:
    lines = {token.start[0] for token in tokenize.generate_tokens(io.StringIO(text).readline)
             if token.type == tokenize.COMMENT}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(getattr(first.value, "value", None), str):
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


def test_prose_lines_are_docstrings_and_comments():
    text = '"""Module,\ntwo lines."""\nx = 1  # why\n\n\ndef f():\n    """One."""\n    return "not prose"\n'
    assert prose_lines(text) == {1, 2, 3, 7}


def test_the_package_is_at_most_a_little_prose():
    prose = total = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        prose += len(prose_lines(text))
        total += len(text.splitlines())
    assert prose <= MAX_PROSE_SHARE * total, (
        f"{prose} of {total} lines in src/glyphgen are docstrings or comments, above {MAX_PROSE_SHARE:.0%}: "
        f"keep the why in a line or two and move explanations to docs/")
