"""Enter one of your containers (a shell), or run one command in it; starts it if needed.

  container-run NAME                 a shell in /workspace (bash if the image has it, else sh)
  container-run NAME -- CMD ARG...   run CMD as you in /workspace; exits with CMD's exit code
"""
import argparse

from .. import cli


def build_parser():
    from .. import container_cli

    parser = cli.parser(__doc__)
    container_cli.add_name(parser)
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ARG...",
                        help="the command to run (after --)")
    cli.add_user_option(parser)
    return parser


def main(argv):
    # Everything after `--` is the command, even words that look like our options.
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    args = build_parser().parse_args(own)
    if args.command:
        build_parser().error("put the command after --, e.g. container-run NAME -- python train.py")
    from .. import container_exec

    context = cli.Context(user_option=args.user)
    if command:
        return container_exec.run(context.docker, context.user, args.name, command, log_dir=context.log_dir,
                                  config=context.config, state_dir=context.state_dir)
    return container_exec.shell(context.docker, context.user, args.name, log_dir=context.log_dir,
                                config=context.config, state_dir=context.state_dir)
