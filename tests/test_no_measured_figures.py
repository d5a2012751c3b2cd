"""Measured figures live in files a command writes (benchmarks/*.md, reports/), never in a docstring, a comment
or params.yaml, where they go stale: the code and the params say why in a line and point to that file.

A measured figure here is a percentage (`95.5%`), a duration (`65 s`, `2.5 ms`, `1:20 wall`, `30 CPU-s`), a
throughput (`400 images/s`), a speed-up (`3x faster`) or a score after its name (`FID 142.9`, `NMI 0.23`,
`accuracy 0.9`). Sizes (`28 px`, `10,000 samples`), epochs, years and hyperparameters are not."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "src" / "glyphgen").rglob("*.py"))
MEASURED = re.compile(
    r"\d\s?%"  # a percentage
    r"|\b\d+(\.\d+)?\s?(s|ms|sec|secs|seconds?|min|minutes?|hours?|CPU-s|CPU-seconds?)\b(?!-)"  # a duration
    r"|\b\d+:\d\d\s?(wall|min)"
    r"|\d\s?(images|img|steps|it)/s\b"  # a throughput
    r"|\b\d+(\.\d+)?x\s(faster|slower|the|as)\b"  # a speed-up
    r"|\b(FIDs?|NMI|class entropy|accuracy|precision|recall|density|coverage)\s?(of\s|=\s?|:\s?)?\d",  # a score
    re.IGNORECASE)


def prose(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every docstring and comment of a Python file, or of every comment of a YAML file."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".yaml":
        return [(number, line.split("#", 1)[1]) for number, line in enumerate(text.splitlines(), 1) if "#" in line]
    found = [(token.start[0], token.string) for token in tokenize.generate_tokens(io.StringIO(text).readline)
             if token.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            docstring = ast.get_docstring(node, clean=False)
            if docstring is not None:
                found.append((node.body[0].lineno, docstring))
    return found


def measured_figures(path: Path) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line}: {match.group(0)!r}" for line, text in prose(path)
            for match in MEASURED.finditer(text)]


@pytest.mark.parametrize("path", [*SOURCES, ROOT / "params.yaml"], ids=lambda path: str(path.relative_to(ROOT)))
def test_no_docstring_or_comment_quotes_a_measured_figure(path):
    assert measured_figures(path) == []


def test_the_pattern_tells_figures_from_sizes_and_years():
    figures = ["95.59% in 65 s", "FID 142.9", "NMI 0.23", "took 1:20 wall", "390,000 images/s", "3x faster",
               "30 CPU-s", "2.5 ms", "accuracy 0.9"]
    others = ["28 px", "10,000 samples", "Makhzani et al. 2015", "3 epochs", "a 7 x 7 map", "Adam 1e-3 (0.5)",
              "16-d code", "every 50 steps", "FID on 10,000 samples", "stride-2 convs"]
    assert [text for text in figures if not MEASURED.search(text)] == []
    assert [text for text in others if MEASURED.search(text)] == []
