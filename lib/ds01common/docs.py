"""Generated parts of the docs: blocks between `<!-- generated: NAME -->` and
`<!-- end generated -->` markers, rendered from the tables the code itself uses (the command
registry, the config schema). `scripts/update-docs` rewrites them; a test fails when they drift.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

END = "<!-- end generated -->"


def renderers() -> dict[str, Callable[[], str]]:
    from .commands.registry import commands_markdown
    from .config_schema import reference_markdown

    return {"commands": commands_markdown, "config-reference": reference_markdown}


def _block_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- generated: {re.escape(name)} -->\n)(.*?)({re.escape(END)})", re.S)


def render(document: str) -> str:
    """`document` with every generated block replaced by its current rendering."""
    for name, renderer in renderers().items():
        document = _replace_block(document, name, renderer())
    return document


def _replace_block(document: str, name: str, rendered: str) -> str:
    return _block_pattern(name).sub(lambda match: match.group(1) + rendered + match.group(3), document)


def blocks_in(document: str) -> list[str]:
    return re.findall(r"<!-- generated: ([\w-]+) -->", document)


def update(path: Path) -> bool:
    """Rewrite the generated blocks of one file; True when something changed."""
    before = path.read_text()
    after = render(before)
    if after != before:
        path.write_text(after)
    return after != before
