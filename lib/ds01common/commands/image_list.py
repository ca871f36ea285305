"""List your project images: tag, size, age and the containers that use each.

Images are ds01-<you>/<project>:<tag>; `:latest` is built by image-create and image-update,
other tags come from `container-retire --save-changes`.
"""

from __future__ import annotations

from .. import cli

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    import argparse


def build_parser() -> argparse.ArgumentParser:
    parser = cli.parser(__doc__)
    cli.add_json_option(parser)
    cli.add_user_option(parser)
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import images, units

    context = cli.Context(user_option=args.user)
    entries = images.list_images(context.docker, context.user)
    if args.json:
        cli.print_json(entries)
        return 0
    rows = [(entry["image"], units.format_size(entry["size"] or 0), entry["created"],
             ", ".join(entry["containers"]) or "-") for entry in entries]
    cli.print_table(rows, ("IMAGE", "SIZE", "CREATED", "CONTAINERS"),
                    empty="no images yet: build one with `image-create PROJECT`")
    return 0
