"""Show and repair GPU slot allocations: status, reconcile with Docker, release a slot (admin).

  gpu-allocator status [--json]        every GPU slot with its owner, container and since when
                                       (--json: container = short name, docker_name = Docker's)
  gpu-allocator reconcile              bring the ledger in line with Docker's labels now
  gpu-allocator release SLOT [--force] free one slot (admins); a running container's slot
                                       needs --force, which stops that container first
"""

from __future__ import annotations

from .. import cli

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    import argparse


def build_parser() -> argparse.ArgumentParser:
    parser = cli.parser(__doc__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    status = commands.add_parser("status", help="every GPU slot with its owner")
    cli.add_json_option(status)
    commands.add_parser("reconcile", help="reconcile the ledger with Docker now")
    release = commands.add_parser("release", help="free one GPU slot (admins)")
    release.add_argument("slot", metavar="SLOT", help='slot id, e.g. "0" or "1:0"')
    release.add_argument("--force", action="store_true", help="stop a running container to free its slot")
    return parser


def show_status(context: cli.Context, as_json: bool) -> int:
    from .. import allocator, allocator_admin
    from ..names import short_name as _short
    from ..units import format_size

    document = allocator.status(context.docker, context.config, state_dir=context.state_dir, log_dir=context.log_dir)
    if as_json:  # exactly contract section 9's shape; gpu-status --json has the rest
        cli.print_json(allocator_admin.contract_status(document))
        return 0
    if not document["slots"]:
        print(document["reason"] and f"No GPU slots: {document['reason']}" or "No GPU slots on this host.")
    memory = {gpu["index"]: gpu["memory"] for gpu in document["gpus"]}
    rows = [(row["id"], row["profile"] or f"full {format_size(memory.get(row['gpu'], 0))}", f"{row['weight']:.2f}",
             row["user"] or "free", _short(row["container"]),
             row["since"] if row["state"] == "assigned" else row["state"] if row["user"] else None)
            for row in document["slots"]]
    if rows:
        cli.print_table(rows, ("SLOT", "PROFILE", "GPUEQ", "USER", "CONTAINER", "SINCE"))
    for row in document["unknown_slots"]:
        print(f"slot {row['id']} vanished (no longer in this host's inventory: GPU failed or re-partitioned); "
              f"{_short(row['container'])} of {row['user']} holds it and cannot start until re-created")
    if document["queue"]:
        print(f"{len(document['queue'])} waiting in the GPU queue (see gpu-queue)")
    return 0


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    context = cli.Context()
    if args.command in (None, "status"):
        return show_status(context, getattr(args, "json", False))
    from .. import allocator_admin
    from ..names import short_name as _short

    if args.command == "reconcile":
        changes, conflicts = allocator_admin.reconcile(context.docker, context.config, state_dir=context.state_dir,
                                                       log_dir=context.log_dir)
        for kind, slot, container, why, _user in changes:
            print(f"{kind} slot {slot or '-'} ({_short(container)}): {why}")
        for slot, claimant, holder in conflicts:
            print(f"conflict: {_short(claimant)} is labelled with slot {slot}, held by {_short(holder)}")
        if not changes and not conflicts:
            print("ledger already matches Docker")
        return 0
    allocator_admin.validate_slot_id(args.slot)
    context.require_admin("releasing a slot")
    done = allocator_admin.release_slot(context.docker, context.config, args.slot, force=args.force,
                                        actor=context.caller.name, state_dir=context.state_dir,
                                        log_dir=context.log_dir)
    stopped = " (container stopped)" if done["stopped"] else ""
    print(f"released GPU slot {args.slot} from {_short(done['container'])} of {done['user']}{stopped}")
    return 0
