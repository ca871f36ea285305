"""List every DS01 command with its tier and a one-line description.

The list is read from the command registry that the bin/ wrappers themselves call, so it is never out of date.
"""

from __future__ import annotations

import argparse

from .. import cli


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__, cli.add_json_option)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import catalog

    entries = catalog.commands()
    if args.json:
        cli.print_json(entries)
        return 0
    for tier in catalog.TIERS + tuple(sorted({e["tier"] for e in entries} - set(catalog.TIERS))):
        rows = [(e["name"], f"alias of {e['alias_of']}" if e["alias_of"] else e["description"])
                for e in entries if e["tier"] == tier]
        if rows:
            print(catalog.TIER_TITLES.get(tier, tier))
            print("\n".join(f"  {name:<26} {text}" for name, text in rows) + "\n")
    return 0
