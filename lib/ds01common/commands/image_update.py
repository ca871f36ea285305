"""Add packages to a project's Dockerfile and rebuild its image.

--packages adds pip packages to the Dockerfile's package line (a new version of a package
replaces the old one), --apt adds system packages (apt-get, on a Debian/Ubuntu base) and
--requirements FILE installs a requirements file (copied beside the Dockerfile). Without them
the image is rebuilt from the Dockerfile as it is, after you edited it by hand, say: lines you
add run as root like in any Dockerfile; DS01 adds your user after them when it builds, so the
container still runs as you. If the build fails, the Dockerfile is put back as it was and the
failing line is named. Containers keep their old image until retired and launched again.

  image-update myproject --packages wandb transformers==4.44.0
  image-update myproject --apt ffmpeg libgl1 --requirements requirements.txt
  image-update myproject --no-cache        # rebuild everything, e.g. for security updates
"""

from __future__ import annotations

import argparse

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__, cli.Argument("project", nargs="?", metavar="PROJECT", help="project name"),
                      cli.Argument("--packages", nargs="+", action="extend", metavar="PKG", default=[],
                                   help="pip packages to add: a b, a,b or repeated --packages"),
                      cli.Argument("--remove-packages", nargs="+", action="extend", metavar="PKG", default=[],
                                   help="pip packages to drop"),
                      cli.Argument("--apt", nargs="+", action="extend", metavar="PKG", default=[],
                                   help="system packages to add (apt-get install; needs a Debian/Ubuntu base)"),
                      cli.Argument("--requirements", metavar="FILE",
                                   help="install this requirements file (copied to the project's requirements.txt)"),
                      cli.Argument("--no-cache", action="store_true", help="build every step again"),
                      cli.Argument("--no-build", action="store_true", help="edit the Dockerfile only"),
                      cli.add_user_option)


def main(argv: list[str]) -> int:
    args, context = cli.parse_with_user(build_parser(), argv)
    from .. import image_store, images
    from ..errors import ConfigError, Ds01Error

    images.require_project(args.project, args.packages + args.remove_packages + args.apt)
    args.project = images.resolve_reference(context.user, args.project)[1]  # another's image: exit 4
    path = images.dockerfile_path(context.config, context.user, args.project)
    before = images.snapshot(context.config, context.user, args.project)
    if args.packages or args.remove_packages:
        packages = images.update_dockerfile(context.config, context.user, args.project,
                                            packages=args.packages, remove=args.remove_packages)
        print(f"updated {path}: extra packages {' '.join(packages) or '(none)'}")
    elif not path.is_file():
        images.update_dockerfile(context.config, context.user, args.project)  # raises: says how to make one
    if args.apt or args.requirements:
        try:
            apt = images.add_build_steps(context.config, context.user, args.project, apt=args.apt,
                                         requirements=args.requirements)
        except BaseException:
            images.restore(before, context.user)
            raise
        if args.apt:
            print(f"updated {path}: system packages {' '.join(apt)}")
        if args.requirements:
            print(f"updated {path}: installs requirements.txt")
    if args.no_build:
        return 0
    print(f"rebuilding from {path} ...", flush=True)
    try:
        result = image_store.build(context.docker, context.config, context.user, args.project,
                                   no_cache=args.no_cache, on_output=cli.output_if_terminal(), log_dir=context.log_dir)
    except BaseException as error:
        # A failed (or interrupted) build leaves the project as it was before this command.
        if images.snapshot(context.config, context.user, args.project) == before:
            raise
        images.restore(before, context.user)
        if isinstance(error, Ds01Error) and not isinstance(error, ConfigError):
            error.args = (f"{error}\n{path} is back as it was before this image-update "
                          "(this run's additions were not kept)",)
        raise
    print(f"built {result['image']}")
    print(f"running containers keep the old image: `container-retire {args.project}`, "
          f"then `project-launch {args.project}`")
    return 0
