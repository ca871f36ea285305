"""AIME-style: create a container from a framework image (mlc-create NAME FRAMEWORK VERSION).

FRAMEWORK and VERSION pick an image from images.frameworks in resource-limits.yaml
(e.g. `mlc-create mywork pytorch 2.3`). -w DIR is mounted at /workspace (default
~/workspace/NAME), -d DIR at /data, -g N takes N GPU slots (0: CPU-only).
--wait [SECONDS] queues for a GPU when none is free instead of failing.
"""

from .. import cli


def build_parser():
    from .. import container_cli

    parser = cli.parser(__doc__)
    parser.add_argument("name", metavar="NAME", help="container name")
    parser.add_argument("framework", metavar="FRAMEWORK", help="e.g. pytorch, tensorflow")
    parser.add_argument("version", metavar="VERSION", help="e.g. 2.3")
    parser.add_argument("-w", "--workspace_dir", "--workspace", dest="workspace", metavar="DIR",
                        help="host directory mounted at /workspace")
    parser.add_argument("-d", "--data_dir", "--data", dest="data", metavar="DIR",
                        help="host directory mounted at /data")
    parser.add_argument("-g", "--num_gpus", "--gpus", dest="gpus", type=int, metavar="N", help="GPU slots")
    container_cli.add_wait_option(parser)
    cli.add_user_option(parser)
    return parser


def main(argv):
    args = build_parser().parse_args(argv)
    from .. import container_cli, mlc

    context = cli.Context(user_option=args.user)
    result = mlc.create(context.docker, context.config, context.user, args.name, args.framework, args.version,
                        workspace=args.workspace, data_dir=args.data, gpus=args.gpus,
                        wait=container_cli.wait_seconds(args.wait),
                        state_dir=context.state_dir, log_dir=context.log_dir)
    if result.get("notice"):
        cli.log.warning(result["notice"])
    print("\n".join(container_cli.created_lines(result)))
    print(f"Open it with `mlc-open {args.name}`.")
    return 0
