"""Turn resource-limits.yaml into Slurm QoS and associations (sacctmgr), for a Slurm cluster.

One QoS per group (ds01-<group>), one per user whose user_overrides change a limit:
GPU slots per user (max_mig_instances) -> MaxTRESPerUser=gres/gpu=N, containers at once
(max_containers_per_user) -> MaxJobsPerUser, max_runtime -> MaxWall, priority -> Priority,
max_cpus / memory / max_gpus_per_container -> MaxTRESPerJob, with Flags=DenyOnLimit. Every user
named in the config (and each --add-user) gets an association under cluster.account with that
QoS. Idempotent: only the differences are applied; a second --apply changes nothing.
  --dry-run   print the sacctmgr commands (the default)
  --apply     run them (admins only)
"""

from __future__ import annotations

import argparse
import pwd

from .. import cli, log


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__,
                      cli.exclusive(cli.Argument("--dry-run", action="store_true",
                                                 help="print the sacctmgr commands (the default)"),
                                    cli.Argument("--apply", action="store_true", help="run them (admins only)")),
                      cli.Argument("--add-user", action="append", default=[], metavar="LOGIN",
                                   help="also give LOGIN an association (in its config group); repeatable"))


def _exists(login: str) -> bool:
    try:
        pwd.getpwnam(login)
    except KeyError:
        return False
    return True


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import slurm, slurm_limits
    from ..cluster import settings
    from ..errors import UsageError

    context = cli.Context()
    cluster = settings(context.config)
    if cluster is None:
        raise UsageError("the config has no `cluster: {scheduler: slurm}` section: nothing to set up")
    if args.apply:
        context.require_admin("setup-slurm-limits --apply", hint=" (try --dry-run)")
    plan = slurm_limits.desired(context.config, cluster.account, args.add_user, user_exists=_exists)
    tools = slurm.from_settings(cluster.slurm_conf, context.environment)
    try:
        current = slurm_limits.read_current(tools, cluster.account)
    except Exception as error:  # noqa: BLE001 - no Slurm reachable: a dry run still shows the full plan
        if args.apply:
            raise
        log.warning("cannot read Slurm's accounting (%s): showing every command", error)
        current = slurm_limits.Current()
    for login in plan.skipped:
        log.warning("%s is named in the config but has no account on this machine: skipped", login)
    commands = slurm_limits.commands(plan, current)
    if not commands:
        print(f"Slurm already matches the config: {len(plan.qos)} QoS, {len(plan.users)} users; nothing to change")
        return 0
    for command in commands:
        print(slurm_limits.command_line(command))
        if args.apply:
            tools.sacctmgr(command)
    if args.apply:
        print(f"applied {len(commands)} change(s)")
    return 0
