"""Warn about and retire idle, overlong, GPU-holding and never-started DS01 containers.

Run by cron every 5 minutes (/etc/cron.d/ds01). For every DS01 container it measures CPU
(Docker stats, all containers at once), GPU use (NVML processes mapped to containers) and
a `.keep-alive` file in the workspace, then: warns the owner at idle_warn_fraction of
idle_timeout and retires at 100 %; warns at the runtime_warn_fractions of max_runtime and
retires at 100 %; removes a stopped container still holding GPU slots after
gpu_hold_after_stop, and one never started after never_started_timeout. Retiring stops and
removes the container and frees its GPU; the workspace is always kept. Exemptions in the
config's lifecycle section are honoured and reported once. Every action is an event in
events.jsonl; warnings also reach the owner's terminals and the project's .ds01-alerts.
"""

from __future__ import annotations

import argparse

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__,
                      cli.Argument("--dry-run", action="store_true",
                                   help="print what would happen; change, record and send nothing"),
                      cli.Argument("--workspace-under", metavar="DIR",
                                   help="only containers whose workspace lies under DIR (tests, staged roll-outs)"),
                      cli.Argument("--log", metavar="FILE",
                                   help="append the output to FILE, never through a link (cron's cleanup.log)"),
                      cli.add_json_option)


def _append_output_to(path: str) -> None:
    """stdout and stderr appended to `path`: cron used a shell `>>`, which root runs through any
    link a user planted in a group-writable log dir."""
    import os

    from ..security import open_regular

    fd = open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    for stream in (1, 2):
        os.dup2(fd, stream)
    os.close(fd)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import events, lifecycle

    context = cli.Context()
    if args.log:
        # Root appends to the file: never at a user's say (locked mode runs their commands as root).
        context.require_admin("--log")
        _append_output_to(args.log)
    if not args.dry_run:
        context.require_admin("cleanup-idle-containers", hint=" (try --dry-run)")
    report = lifecycle.run_pass(context.docker, context.config, state_dir=context.state_dir,
                                log_dir=context.log_dir, dry_run=args.dry_run,
                                workspace_under=args.workspace_under, environment=context.environment)
    if args.json:
        cli.print_json(report)
        return 0
    verbs = ({"warn": "would warn", "retire": "would retire", "exempt": "would keep (exempt)"} if args.dry_run
             else {"warn": "warned", "retire": "retired", "exempt": "kept (exempt)"})
    # Cron appends this to cleanup.log: a timestamp and one plain line per action, then a summary.
    stamp = events.utc_now_iso()
    for action in report["actions"]:
        print(f"{stamp} {verbs[action['action']]} {action['user']}/{action['container']} "
              f"[{action['reason']}]: {action['message']}")
    counts = {kind: sum(1 for action in report["actions"] if action["action"] == kind) for kind in verbs}
    print(f"{stamp} {'dry run: ' if args.dry_run else ''}checked {report['checked']} DS01 container(s): "
          f"{counts['retire']} retired, {counts['warn']} warned, {counts['exempt']} exempt")
    return 0
