"""Delete a project's image, or one tag of it (PROJECT:TAG); the Dockerfile stays for rebuilding.

An image that a container still uses is refused: retire the container first. Asks for
confirmation on a terminal; elsewhere pass --yes.
"""

from __future__ import annotations

import argparse

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__,
                      cli.Argument("project", metavar="PROJECT",
                                   help="PROJECT, PROJECT:TAG or ds01-<you>/<project>[:tag]"),
                      cli.Argument("--tag", default="latest", help="which tag (default: latest)"), cli.add_yes_option,
                      cli.add_user_option)


def main(argv: list[str]) -> int:
    args, context = cli.parse_with_user(build_parser(), argv)
    from .. import image_store, images

    image, reference = image_store.find_image(context.docker, context.user, args.project, args.tag)
    if not cli.confirmed(args.yes, f"Delete image {reference}? (the Dockerfile stays)", "kept"):
        return 0
    result = image_store.delete(context.docker, context.user, args.project, tag=args.tag, log_dir=context.log_dir)
    print(f"deleted {result['image']}")
    _, project = images.resolve_reference(context.user, args.project, args.tag)
    dockerfile = images.dockerfile_path(context.config, context.user, project)
    if dockerfile.is_file():
        print(f"kept {dockerfile}: rebuild with `image-create {project}`")
    return 0
