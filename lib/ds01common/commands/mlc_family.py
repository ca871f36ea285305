"""The `mlc` family in one place: every `mlc-SUB` command (and `mlc SUB`) parses and runs here.

Each mlc_<sub>.py module is the command's help text plus `subcommand("<sub>", __doc__)`; this
module holds the options and the behaviour, written as AIME v1 and v2 users type them:
v1 `-w=DIR`, v2 `-w DIR`, `-Y`/`-f` for "yes", `-s` (script mode: DS01 never prompts without a
terminal anyway), `-arch` (accepted; the image comes from the framework table).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .. import cli, log

TYPE_CHECKING = False  # typing's own flag would import typing, which every mlc command (and --help) would pay for
if TYPE_CHECKING:
    from ..identity import User

ParserMaker = Callable[[], argparse.ArgumentParser]
Main = Callable[[list[str]], int]


def _add_script_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-s", "--script", action="store_true",
                        help="AIME's script mode; accepted (DS01 never prompts without a terminal)")


def _add_yes_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-y", "-Y", "-f", "--yes", "--force", dest="yes", action="store_true",
                        help="do not ask for confirmation (AIME's -Y and -f)")


def _add_name(parser: argparse.ArgumentParser, optional: bool = False) -> None:
    parser.add_argument("name", nargs="?" if optional else None, metavar="NAME",
                        help="container name (dots and capitals are mapped to a DS01 name)")


# --- create ------------------------------------------------------------------------------

def _create_arguments(parser: argparse.ArgumentParser) -> None:
    from .. import container_cli

    _add_name(parser, optional=True)
    parser.add_argument("framework", nargs="?", metavar="FRAMEWORK", help="e.g. Pytorch, Tensorflow, Jax")
    parser.add_argument("version", nargs="?", metavar="VERSION", help="e.g. 2.8.0")
    parser.add_argument("-w", "--workspace_dir", "--workspace", dest="workspace", metavar="DIR",
                        help="host directory mounted at /workspace (default ~/workspace/NAME)")
    parser.add_argument("-d", "--data_dir", "--data", dest="data", metavar="DIR",
                        help="host directory mounted at /data: yours, or one you can read under a data root "
                        "the admin approved (config data_roots)")
    parser.add_argument("-m", "--models_dir", "--models", dest="models", metavar="DIR",
                        help="a directory mounted at /models (yours, or under an approved data root)")
    parser.add_argument("-g", "--num_gpus", "--gpus", dest="gpus", metavar="N|all",
                        help="GPU slots: a number (0: CPU-only) or `all` (as many as your quota allows now)")
    container_cli.add_wait_option(parser)
    parser.add_argument("-arch", "--architecture", metavar="ARCH",
                        help="accepted for AIME scripts; the image comes from the framework table")
    parser.add_argument("--info", action="store_true", help="print the framework table and exit")
    _add_script_flag(parser)
    cli.add_user_option(parser)


def print_framework_table(context: cli.Context) -> None:
    from .. import frameworks

    rows, headers = frameworks.format_rows(frameworks.rows_on_server(context.config, context.docker))
    print("Frameworks on this server (framework names in any case; 2.8 finds 2.8.0):")
    cli.print_table(rows, headers, empty="none configured: admins map them under images.frameworks "
                                         "in resource-limits.yaml")


def _create(args: argparse.Namespace, context: cli.Context) -> int:
    from .. import container_cli, mlc

    if args.info or args.name is None:
        print_framework_table(context)
        return 0
    if args.version is None:
        raise _usage("create needs NAME FRAMEWORK VERSION; `mlc create --info` lists the frameworks")
    mapped = mlc.ds01_name(args.name)
    _say(mapped.notice())
    if args.architecture:
        log.warning("-arch %s ignored: DS01 runs the image the framework table names", args.architecture)
    result = mlc.create(context.docker, context.config, context.user, mapped.name, args.framework,
                        args.version, workspace=args.workspace, data_dir=args.data, models_dir=args.models,
                        gpus=mlc.parse_gpus(args.gpus), wait=container_cli.wait_seconds(args.wait),
                        state_dir=context.state_dir, log_dir=context.log_dir, on_notice=print)
    _say(result.get("notice"))
    print("\n".join(container_cli.created_lines(result)))
    if args.models:
        print(f"  models {mlc.check_models_dir(args.models, context.user)} -> /models")
    print(f"Open it with `mlc open {mapped.name}`.")
    return 0


# --- open, start, stop, remove -----------------------------------------------------------

def _open(args: argparse.Namespace, context: cli.Context) -> int:
    from .. import container_exec

    return int(container_exec.shell(context.docker, context.user, _name(args), log_dir=context.log_dir,
                                    config=context.config, state_dir=context.state_dir))


def _start_arguments(parser: argparse.ArgumentParser) -> None:
    _add_name(parser)
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="CMD ARG...",
                        help="run CMD in it as you in /workspace (as container-run) and exit with its code; "
                        "-s and --user USER are read as options before or right after NAME; from CMD on, "
                        "every word is CMD's (`--` ends the options explicitly)")
    _add_script_flag(parser)
    cli.add_user_option(parser)


def _start(args: argparse.Namespace, context: cli.Context) -> int:
    from .. import container_exec, containers

    name = _name(args)
    command = list(args.command)
    if command:
        return int(container_exec.run(context.docker, context.user, name, command, log_dir=context.log_dir,
                                      config=context.config, state_dir=context.state_dir))
    containers.start(context.docker, context.user, name, log_dir=context.log_dir, config=context.config,
                     state_dir=context.state_dir)
    print(f"{name}: started; `mlc open {name}` enters it")
    return 0


def _stop(args: argparse.Namespace, context: cli.Context) -> int:
    from .. import containers

    name = _name(args)
    containers.stop(context.docker, context.user, name, log_dir=context.log_dir)
    print(f"{name}: stopped; it keeps its GPU slot until `mlc remove {name}`")
    return 0


def _remove(args: argparse.Namespace, context: cli.Context) -> int:
    from .. import container_cli, containers, prompts

    name = _name(args)
    containers.find(context.docker, context.user, name)
    question = f"Remove {name}? Its workspace is kept; changes outside /workspace are lost"
    if not args.yes and not prompts.confirm(question, flag="-f (or --yes)"):
        print("nothing removed")
        return 1
    result = containers.retire(context.docker, context.config, context.user, name, state_dir=context.state_dir,
                               log_dir=context.log_dir, actor=context.caller.name)
    print("\n".join(container_cli.retired_lines(result)))
    print("  (DS01 retires: the container and its GPU slot are gone, the workspace stays)")
    return 0


# --- list, stats, update-sys -------------------------------------------------------------

def _list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-a", "--all", action="store_true",
                        help="all your containers, stopped ones included (also the default)")
    parser.add_argument("-au", "--all_users", "--all-users", dest="all_users", action="store_true",
                        help="every user's containers (admins)")
    cli.add_json_option(parser)
    _add_script_flag(parser)
    cli.add_user_option(parser)


def _listed_user(args: argparse.Namespace, context: cli.Context) -> User | None:
    """Whose containers `mlc list` shows: None for every user's (-au, admins only)."""
    if not args.all_users:
        own: User = context.user if args.user else context.caller  # the caller's own: no config read
        return own
    context.require_admin("-au (every user's containers)")
    return None


def _list(args: argparse.Namespace, context: cli.Context) -> int:
    from .. import mlc

    # No SDK client: one socket call (see container-list).
    items = mlc.list_rows(None, _listed_user(args, context))

    def table() -> cli.Table:
        rows = [([item["user"]] if args.all_users else [])
                + [item["name"], item["framework"] or "-", item["status"], item["image"], ",".join(item["gpus"]) or "-"]
                for item in items]
        return rows, (("USER",) if args.all_users else ()) + ("CONTAINER", "FRAMEWORK", "STATUS", "IMAGE", "GPUS")

    cli.print_listing(args.json, items, table,
                      empty="no containers (create one with `mlc create NAME FRAMEWORK VERSION`)")
    return 0


def _stats_arguments(parser: argparse.ArgumentParser) -> None:
    _add_name(parser, optional=True)
    cli.add_json_option(parser)
    _add_script_flag(parser)
    cli.add_user_option(parser)


def _stats(args: argparse.Namespace, context: cli.Context) -> int:
    from .. import container_cli, container_stats

    name = _name(args) if args.name else None
    stats = container_stats.collect(context.docker, context.user, name)
    cli.print_listing(args.json, stats, lambda: container_cli.stats_rows(stats), empty="no containers")
    return 0


def _update_sys_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--force", action="store_true", help="accepted for AIME scripts; changes nothing")
    _add_script_flag(parser)


def _update_sys(args: argparse.Namespace, context: cli.Context) -> int:
    from .. import __version__, mlc, paths

    checkout = paths.checkout_root()
    for line in mlc.update_sys_lines(__version__, context.is_admin, str(checkout) if checkout else None):
        print(line)
    return 0


# --- the table and its plumbing ----------------------------------------------------------

def _name_only_arguments(parser: argparse.ArgumentParser) -> None:
    _add_name(parser)
    _add_script_flag(parser)
    cli.add_user_option(parser)


def _yes_arguments(parser: argparse.ArgumentParser) -> None:
    _name_only_arguments(parser)
    _add_yes_flag(parser)


def _parse_start(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """`mlc start NAME --user alice` (how an admin types it) reads as `mlc start --user alice NAME`:
    DS01's own options right after NAME (-s, --user USER) are options; from the first other word
    on, everything is CMD, its options included (`mlc start NAME python -s x.py` passes -s on),
    and a `--` ends the options explicitly (argparse would read options after it)."""
    cut = argv.index("--") if "--" in argv else -1
    if cut >= 0 and _names_a_container(argv[:cut]):  # `--` before NAME is argparse's to read
        args = parser.parse_args(argv[:cut])
        _options_after_name(args)
        args.command = [*args.command, *argv[cut:]] if args.command else argv[cut + 1:]
        return args
    args = parser.parse_args(argv)
    _options_after_name(args)
    return args


def _names_a_container(words: list[str]) -> bool:
    """Whether these words hold NAME (a word that is neither an option nor --user's value)."""
    position = 0
    while position < len(words):
        if words[position] == "--user":
            position += 2
            continue
        if not words[position].startswith("-"):
            return True
        position += 1
    return False


def _options_after_name(args: argparse.Namespace) -> None:
    command = list(args.command)
    while command:
        word = command[0]
        if word in ("-s", "--script"):
            args.script = True
            del command[0]
        elif word == "--user" or word.startswith("--user="):
            if word == "--user" and len(command) < 2:
                raise _usage("--user needs a user name")
            value = command[1] if word == "--user" else word.partition("=")[2]
            del command[:2 if word == "--user" else 1]
            if args.user not in (None, value):
                raise _usage(f"--user given twice ({args.user}, {value})")
            args.user = value
        else:
            break
    args.command = command


class Sub:
    """One mlc subcommand. A plain class: every mlc command (and its --help) builds these at start,
    and a NamedTuple or dataclass costs more there than the rest of this module (typing, exec)."""

    __slots__ = ("arguments", "run", "parse")

    def __init__(self, arguments: Callable[[argparse.ArgumentParser], None],
                 run: Callable[[argparse.Namespace, cli.Context], int],
                 parse: Callable[[argparse.ArgumentParser, list[str]], argparse.Namespace] | None = None) -> None:
        self.arguments = arguments
        self.run = run
        # Parses argv instead of parser.parse_args (before the context, which needs the final --user).
        self.parse = parse


SUBCOMMANDS: dict[str, Sub] = {
    "create": Sub(_create_arguments, _create),
    "list": Sub(_list_arguments, _list),
    "open": Sub(_name_only_arguments, _open),
    "remove": Sub(_yes_arguments, _remove),
    "start": Sub(_start_arguments, _start, _parse_start),
    "stats": Sub(_stats_arguments, _stats),
    "stop": Sub(_yes_arguments, _stop),
    "update-sys": Sub(_update_sys_arguments, _update_sys),
}


def _usage(text: str) -> Exception:
    from ..errors import UsageError

    return UsageError(text)


def _say(text: str | None) -> None:
    if text:
        print(text)


def _name(args: argparse.Namespace) -> str:
    from .. import mlc

    mapped = mlc.ds01_name(args.name)
    return mapped.name


def subcommand(sub: str, doc: str | None) -> tuple[ParserMaker, Main]:
    """(build_parser, main) of `mlc-<sub>`, for its module to export."""
    spec = SUBCOMMANDS[sub]

    def build_parser() -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = cli.parser(doc)
        spec.arguments(parser)
        return parser

    def main(argv: list[str]) -> int:
        parser = build_parser()
        args = spec.parse(parser, argv) if spec.parse is not None else parser.parse_args(argv)
        return spec.run(args, cli.Context(user_option=getattr(args, "user", None)))

    return build_parser, main
