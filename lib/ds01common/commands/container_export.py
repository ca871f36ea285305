"""Export a container as a Slurm batch script or a Kubernetes Job manifest.

  container-export NAME --to slurm [-o FILE] [-- CMD ARG...]
  container-export NAME --to k8s   [-o FILE] [-- CMD ARG...]
The same image, GPUs (GRES gpu:<type>:N; nvidia.com/gpu or nvidia.com/mig-<profile>), CPUs,
memory, runtime limit, uid, HOME (the image's own, as here) and workspace (/workspace, the
working directory) as the container gets here, from your limits. The job
runs CMD (default: sh /workspace/run.sh). Without -o it is printed. GPU types come from the
config's `cluster` section (full_gpu_type, mig_type) when it has one.
"""

from __future__ import annotations

import argparse
import os
import sys

from .. import cli

DEFAULT_COMMAND = ["sh", "/workspace/run.sh"]


def build_parser() -> argparse.ArgumentParser:
    from .. import container_cli

    return cli.parser(__doc__, lambda parser: container_cli.add_name(parser, "container / project name"),
                      cli.Argument("--to", required=True, choices=("slurm", "k8s"), help="what to write"),
                      cli.Argument("-o", "--output", metavar="FILE", help="write it to FILE (default: print it)"),
                      cli.Argument("--image", metavar="IMG",
                                   help="image (default: the container's, else ds01-<you>/NAME)"),
                      cli.exclusive(cli.Argument("--gpus", type=int, metavar="N", help="GPUs (default: 1)"),
                                    cli.Argument("--cpu-only", action="store_true", help="no GPU")),
                      cli.Argument("--full-gpu", action="store_true",
                                   help="a whole GPU, not a MIG instance (if allowed)"),
                      cli.add_user_option)


def _existing_image(context: cli.Context, name: str) -> str | None:
    """The image of the user's existing container `name` on this server, if Docker is here."""
    from .. import backend, containers, dockerapi
    from ..errors import Ds01Error

    cluster = backend.for_command(context)  # None on one server
    if cluster is not None:
        for item in cluster.list():
            if item["name"] == name:
                return str(item["image"]) or None
        return None
    try:
        container = containers.find(context.docker, context.user, name)
        image = dockerapi.inspect_image(context.docker, container.image_id) if container.image_id else None
    except Ds01Error:
        return None
    tags = image.tags if image is not None else ()
    return str(tags[0]) if tags else container.image or None


def _home_inside(context: cli.Context, image: str) -> str | None:
    """HOME inside, as one server gives it: the image's `ds01.home` where DS01 built it (inside.py),
    read from this server's engine when it has the image; None (HOME=/tmp) otherwise."""
    from .. import dockerapi, inside
    from ..errors import Ds01Error

    try:
        found = dockerapi.inspect_image(context.docker, image, f"image {image}")
    except Ds01Error:
        return None
    return inside.for_image(image, inside.image_labels(found)).home


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    args = build_parser().parse_args(own)  # the job's command is everything after `--`
    from .. import cluster, names
    from ..backend import jobspec, k8s

    context = cli.Context(user_option=args.user)
    user = context.user
    names.validate_name(args.name)
    image = args.image or _existing_image(context, args.name) or names.image_name(user.name, args.name, uid=user.uid)
    workspace = context.config.workspace_dir(user.home) / args.name
    request = jobspec.build_request(name=args.name, login=user.login, user=user.name, uid=user.uid, gid=user.gid,
                                    image=image, workspace=str(workspace),
                                    limits=context.config.limits_for(user.login),
                                    cluster=cluster.settings(context.config), gpus=args.gpus,
                                    cpu_only=args.cpu_only, full_gpu=args.full_gpu,
                                    home=_home_inside(context, image))
    if args.to == "slurm":
        text = jobspec.export_script(request, command or DEFAULT_COMMAND)
    else:
        import yaml

        text = yaml.safe_dump(k8s.job_manifest(request, command or DEFAULT_COMMAND), sort_keys=False)
    if not args.output:
        sys.stdout.write(text)
        return 0
    from .. import userfiles

    path = os.path.abspath(args.output)
    userfiles.write_text(path, text, user)
    print(f"wrote {args.to} {'batch script' if args.to == 'slurm' else 'Job manifest'} for {args.name} to {path}")
    return 0
