"""Make a project a git repository with a machine-learning .gitignore.

The .gitignore keeps data, checkpoints, caches and secrets (keys, tokens, .env) out of git.
When git-lfs is installed, model files (*.pt, *.safetensors, models/...) are tracked with it.
An existing repository or .gitignore is kept as it is.
--guided explains the step and asks which project.
"""

from __future__ import annotations

import argparse

from . import project_common

EXPLANATION = ("Git keeps the history of your code, so you can go back and share it (git push).\n"
               "Data, checkpoints and secrets are kept out of it by the .gitignore written now.")


def build_parser() -> argparse.ArgumentParser:
    return project_common.step_parser(__doc__)


def main(argv: list[str]) -> int:
    args, context = project_common.parse_step(build_parser(), argv, "git-init", EXPLANATION, must_exist=True)
    from .. import errors, images, onboarding

    workspace = images.project_dir(context.config, context.user, args.project)
    if not workspace.is_dir():
        raise errors.NotFound(f"no project folder {workspace}: run `dir-create {args.project}` first")
    result = onboarding.git_init(workspace, context.user, environment=context.environment)
    print(f"{workspace}: git repository {'made' if result['repository'] else 'already there'}")
    print(f"  .gitignore {'written' if result['gitignore'] else 'kept as it is'}")
    if result["lfs"]:
        print(f"  git-lfs tracks {' '.join(result['lfs'])}")
    else:
        print("  git-lfs is not installed: model files are ignored instead")
    return 0
