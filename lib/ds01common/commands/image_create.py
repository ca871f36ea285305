"""Write a project's Dockerfile from a template and build its image ds01-<you>/<project>:latest.

The Dockerfile is written to <workspace>/<project>/Dockerfile: the blueprint of the project's
environment, kept with the project. An existing Dockerfile is used as it is (--regenerate
rewrites it from the template, keeping the old one as Dockerfile.previous).
Templates: general (default ML stack), cv, nlp, rl, custom (base image and your packages only).
The build output is shown as it happens on a terminal.

  image-create myproject --template cv --packages wandb einops
  image-create myproject --no-build        # only write the Dockerfile
  image-create myproject --framework Pytorch --version 2.8.0   # FROM the server's PyTorch 2.8.0 image
  image-create --list-frameworks           # the frameworks and versions this server maps to images

Without PROJECT at a terminal (or with --guided) it is the guided builder: it asks for the
project, framework, version, template and packages, builds with progress shown, then offers
to start a container. Without a terminal, PROJECT (and the flags) are needed.

--framework/--version take the image from the framework table (images.frameworks, as mlc-create);
the template's stack is installed on top of it. An existing Dockerfile keeps everything but its
FROM line, which names the framework image (the old file is kept as Dockerfile.previous).
"""

from __future__ import annotations

import argparse

from .. import cli
from . import project_common


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__, cli.Argument("project", nargs="?", metavar="PROJECT", help="project name"),
                      project_common.add_recipe_options,
                      cli.Argument("--framework", metavar="FW",
                                   help="build on the server's image for FW (with --version)"),
                      cli.Argument("--version", metavar="V", help="the framework version, e.g. 2.8.0"),
                      cli.Argument("--list-frameworks", action="store_true", help="print the framework table and exit"),
                      cli.Argument("--no-build", action="store_true", help="write the Dockerfile only"),
                      cli.Argument("--regenerate", action="store_true", help="rewrite an existing Dockerfile"),
                      cli.Argument("--no-cache", action="store_true", help="build every step again"),
                      cli.GUIDED_STEPS, cli.add_user_option)


def framework_base(args: argparse.Namespace, context: cli.Context) -> str | None:
    """The framework's image as the base; an existing Dockerfile gets it as its FROM line now."""
    from .. import frameworks, images
    from ..errors import UsageError

    if not (args.framework and args.version) or args.base:
        raise UsageError("--framework and --version go together, without --base; "
                         "`image-create --list-frameworks` lists them")
    chosen = frameworks.resolve(context.config.frameworks, args.framework, args.version)
    path = images.dockerfile_path(context.config, context.user, args.project)
    if path.is_file() and not args.regenerate:
        if frameworks.set_dockerfile_base(path, chosen.image, context.user):
            print(f"{path}: FROM {chosen.image} ({chosen.title}); the rest of the Dockerfile is kept, "
                  "the old one is Dockerfile.previous")
        return None
    print(f"framework {chosen.title}: FROM {chosen.image}")
    return chosen.image


def main(argv: list[str]) -> int:
    args, context = cli.parse_with_user(build_parser(), argv)
    from .. import image_store, images, names

    if args.list_frameworks:
        from .mlc_family import print_framework_table

        print_framework_table(context)
        return 0
    offer_deploy = False
    if args.guided or (not args.project and not args.packages):
        # The guided builder: asked on a terminal, exit 2 naming the flags without one.
        from .. import guided_modules
        offer_deploy = guided_modules.ask_image(
            args, guided_modules.existing_projects(context.config, context.user), context.config.frameworks,
            images.available_templates(),
            lambda project: images.dockerfile_path(context.config, context.user, project).is_file())
    images.require_project(args.project, args.packages)
    if args.framework or args.version:
        args.base = framework_base(args, context)
    path, written = images.write_dockerfile(context.config, context.user, args.project, template=args.template,
                                            base=args.base, packages=args.packages or (),
                                            regenerate=args.regenerate)
    print(f"{'wrote' if written else 'using existing'} {path}")
    if args.no_build:
        print(f"build it with: image-create {args.project}")
        return 0
    print(f"building {names.image_name(context.user.name, args.project, uid=context.user.uid)} ...", flush=True)
    result = image_store.build(context.docker, context.config, context.user, args.project, no_cache=args.no_cache,
                               on_output=cli.output_if_terminal(), log_dir=context.log_dir)
    print(f"built {result['image']}")
    if offer_deploy:
        return _deploy(context, args.project)
    print(f"use it: project-launch {args.project}   (or container-deploy {args.project})")
    return 0


def _deploy(context: cli.Context, project: str) -> int:
    """The builder's last step: container-deploy PROJECT --background, as its flags would run it."""
    from ..errors import ResourcesUnavailable
    from .container_deploy import main as deploy_main

    print(f"starting a container: container-deploy {project} --background", flush=True)
    admin = ["--user", context.user.login] if context.user != context.caller else []
    try:
        return deploy_main([project, "--background", *admin])
    except ResourcesUnavailable as refused:  # its hints name container-deploy's flags, which image-create lacks
        reason = str(refused).replace(" (use --wait to queue)", "").split("; use --")[0]
        raise ResourcesUnavailable(f"{reason}; the image is built: start its container later with "
                                   f"`container-deploy {project} --wait` (queue for a GPU) or "
                                   f"`container-deploy {project} --cpu-only`") from None
