"""Make a project a git repository with a machine-learning .gitignore.

The .gitignore keeps data, checkpoints, caches and secrets (keys, tokens, .env) out of git.
When git-lfs is installed, model files (*.pt, *.safetensors, models/...) are tracked with it.
An existing repository or .gitignore is kept as it is.
"""

from .. import cli


def build_parser():
    parser = cli.parser(__doc__)
    parser.add_argument("project", metavar="PROJECT", help="project name")
    cli.add_user_option(parser)
    return parser


def main(argv):
    args = build_parser().parse_args(argv)
    from .. import errors, images, onboarding

    context = cli.Context(user_option=args.user)
    workspace = images.project_dir(context.config, context.user, args.project)
    if not workspace.is_dir():
        raise errors.NotFound(f"no project folder {workspace}: run `dir-create {args.project}` first")
    result = onboarding.git_init(workspace, context.user)
    print(f"{workspace}: git repository {'made' if result['repository'] else 'already there'}")
    print(f"  .gitignore {'written' if result['gitignore'] else 'kept as it is'}")
    if result["lfs"]:
        print(f"  git-lfs tracks {' '.join(result['lfs'])}")
    else:
        print("  git-lfs is not installed: model files are ignored instead")
    return 0
