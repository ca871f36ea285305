"""List your project images: tag, size, age and the containers that use each.

Images are ds01-<you>/<project>:<tag>; `:latest` is built by image-create and image-update,
other tags come from `container-retire --save-changes`.
"""

from __future__ import annotations

import argparse

from .. import cli

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__, cli.add_json_option, cli.add_user_option)


def main(argv: list[str]) -> int:
    args, context = cli.parse_with_user(build_parser(), argv)
    from .. import image_store

    entries = image_store.list_images(context.docker, context.user)
    cli.print_listing(args.json, entries, lambda: image_table(entries),
                      empty="no images yet: build one with `image-create PROJECT`")
    return 0


def image_table(entries: list[dict[str, Any]]) -> cli.Table:
    from .. import units

    return ([(entry["image"], units.format_size(entry["size"] or 0), entry["created"],
              ", ".join(entry["containers"]) or "-") for entry in entries], ("IMAGE", "SIZE", "CREATED", "CONTAINERS"))
