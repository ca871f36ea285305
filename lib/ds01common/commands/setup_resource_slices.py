"""Write the systemd slices that cap DS01 containers per group and per user.

ds01.slice holds every DS01 container; ds01-<group>.slice each group; and
ds01-<group>-<user>.slice each user, with CPUQuota = max_cpus x max_containers_per_user
x 100 %, MemoryMax = memory x max_containers_per_user and TasksMax = pids_limit x
max_containers_per_user from that user's limits (a group: the sum of its users). Users are
those named in the config and the members of the docker group. With `slices: {enabled:
true}` in the config, new containers run under their user's slice.
"""

from __future__ import annotations

import argparse
import os

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__,
                      cli.exclusive(cli.Argument("--dry-run", action="store_true",
                                                 help="print the units (the default)"),
                                    cli.Argument("--apply", action="store_true",
                                                 help="install them and reload systemd (admins only)")),
                      cli.Argument("--unit-dir", metavar="DIR", default="/etc/systemd/system",
                                   help="where --apply writes the units (default: %(default)s)"), cli.add_json_option)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import slices

    context = cli.Context()
    if not args.apply:
        units = slices.units(context.config)
        if args.json:
            cli.print_json(units)
            return 0
        for name, text in units.items():
            print(f"# --- {name} ---\n{text}")
        return 0
    context.require_admin("--apply")
    report = slices.apply(context.config, unit_dir=args.unit_dir)
    if args.json:
        cli.print_json(report)
        return 0
    for key in ("written", "removed"):
        for name in report[key]:
            print(f"{key} {os.path.join(args.unit_dir, name)}")
    print(f"{len(report['written'])} written, {len(report['unchanged'])} unchanged, "
          f"{len(report['removed'])} removed; "
          + ("systemd reloaded" if report["reloaded"] else "systemd not reloaded (not running or nothing changed)"))
    if not context.config.slices.get("enabled"):
        print("note: slices.enabled is false in the config, so containers do not use these slices yet")
    return 0
