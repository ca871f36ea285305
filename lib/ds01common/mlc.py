"""AIME ML Containers' `mlc` on DS01: names, frameworks, `-g all` and the views, as a library.

An mlc container is an ordinary DS01 container (quotas, queue, idle clean-up all apply),
made from the framework image that `images.frameworks` names and labelled with the choice.
What AIME allows and DS01's names do not (dots, capitals: `tf1.15.0`) is mapped here to a
DS01 name (`tf1-15-0`), the same way by every mlc command, so `mlc open tf1.15.0` finds what
`mlc create tf1.15.0 ...` made.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import container_listing, containers, frameworks, names
from . import labels as label
from .errors import Ds01Error, NotFound, ResourcesUnavailable
from .identity import User

LABEL_FRAMEWORK = label.MLC_FRAMEWORK
ALL_GPUS = "all"
# AIME accepts these in names; DS01's container names do not. Dots become '-', capitals lower case.
AIME_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}\Z")
# The shared create path's refusals name container-create's flags; mlc-create spells them as
# AIME does (`-g 0` is its CPU-only), so no message suggests a flag the mlc family lacks.
_FLAG_SPELLINGS = ((re.compile(r"(?<![\w-])--cpu-only\b"), "-g 0"), (re.compile(r"(?<![\w-])--gpus\b"), "-g"))


@dataclass(frozen=True)
class MappedName:
    """The name a user typed and the DS01 name it stands for."""

    typed: str
    name: str

    @property
    def changed(self) -> bool:
        return self.typed != self.name

    def notice(self) -> str | None:
        """One line saying which DS01 name is used, when it differs from what was typed."""
        if not self.changed:
            return None
        return f"{self.typed!r} is named {self.name!r} on DS01 (container names take no dots or capitals)"


def ds01_name(typed: str) -> MappedName:
    """The DS01 name for an AIME container name: as typed when valid, else dots -> '-', lower case.

    Anything else DS01 refuses (slashes, spaces, ...) is refused as container-create refuses it.
    A Docker name `NAME._.UID` stays as typed: containers.find says whose it is (exit 4 if not yours)."""
    if names.split_docker_name(typed)[1] is not None:
        return MappedName(typed, typed)
    if names.NAME_RE.match(typed) or not AIME_NAME_RE.match(typed):
        return MappedName(typed, names.validate_name(typed))
    return MappedName(typed, names.validate_name(typed.replace(".", "-").lower()))


def check_models_dir(path: str, user: User) -> Path:
    """`-m DIR` as an absolute path (`~` is the user's home); NotFound when it is not a directory.

    Whether the user may mount it (their own, under their home, no links) is checked as for
    the data directory, by containers.create."""
    directory = Path(user.home) / path[2:] if path == "~" or path.startswith("~/") else Path(path)
    directory = Path(os.path.abspath(directory))
    if not directory.is_dir():
        raise NotFound(f"models directory {directory} does not exist")
    return directory


@dataclass(frozen=True)
class SlotsNow:
    """`-g all`: how many GPU slots the user may take at this moment, and why not more."""

    count: int
    host_slots: int
    reason: str

    def words(self) -> str:
        if self.count == 0:
            return f"-g all: no GPU slot for you now ({self.reason})"
        plural = "slot" if self.count == 1 else "slots"
        return (f"-g all: {self.count} GPU {plural}, as many as your limits and the free slots allow now "
                f"(one more: {self.reason})")


def slots_available_now(docker: Any, config: Any, user: User, *, state_dir: Any, log_dir: Any) -> SlotsNow:
    """The largest request the GPU policy would grant the user now (the ledger, reconciled)."""
    from . import inventory, ledger, policy

    found = inventory.discover(config)
    slots = list(found.slots)
    if not slots:
        return SlotsNow(0, 0, found.describe_emptiness())
    limits = config.limits_for(user.login)
    with ledger.transaction(docker, state_dir, weights=found.weights, log_dir=log_dir) as state:
        holdings = policy.user_holdings(state.holders(), user.name)
        holdings.user_containers = len(state.user_containers(user.name))
    reason = ""
    for count in range(len(slots) + 1, 0, -1):
        decision = policy.decide(slots, holdings, limits, policy.Request(count))
        if decision.ok:
            return SlotsNow(count, len(slots), reason or "none left on this host")
        reason = decision.reason
    return SlotsNow(0, len(slots), reason)


def respell_flags(text: str) -> str:
    """A library message as the mlc family would word it: `--cpu-only` is `-g 0`, `--gpus N` is `-g N`."""
    for pattern, spelling in _FLAG_SPELLINGS:
        text = pattern.sub(spelling, text)
    return text


def parse_gpus(text: str | None) -> int | str | None:
    """`-g N` or `-g all`; anything else is an error saying what is allowed."""
    if text is None:
        return None
    if text.strip().lower() == ALL_GPUS:
        return ALL_GPUS
    if text.strip().isdigit():
        return int(text)
    raise Ds01Error(f"-g takes a number of GPU slots or 'all', got {text!r}")


def create(docker: Any, config: Any, user: User, name: str, framework: str, version: str, *,
           state_dir: Any, log_dir: Any, workspace: str | None = None, data_dir: str | None = None,
           models_dir: str | None = None, gpus: int | str | None = None, wait: float | None = None,
           on_notice: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Create (not start) `name` from the framework's image; `gpus` may be ALL_GPUS."""
    chosen = frameworks.resolve(config.frameworks, framework, version)
    models = check_models_dir(models_dir, user) if models_dir else None
    if gpus == ALL_GPUS:
        now = slots_available_now(docker, config, user, state_dir=state_dir, log_dir=log_dir)
        if now.host_slots == 0:
            gpus = None  # the default request: CPU-only with a notice on a host without GPUs
        elif now.count == 0 and wait is None:
            raise ResourcesUnavailable(now.words() + "; use --wait to queue for one")
        else:
            gpus = max(now.count, 1)
        if on_notice is not None:
            on_notice(now.words())
    count = gpus if isinstance(gpus, int) else None
    try:
        return dict(containers.create(docker, config, user, name, image=chosen.image, gpus=count,
                                      cpu_only=count == 0, wait=wait, state_dir=state_dir, log_dir=log_dir,
                                      workspace=workspace, data_dir=data_dir, models_dir=models,
                                      extra_labels={LABEL_FRAMEWORK: chosen.key}))
    except Ds01Error as refused:
        if len(refused.args) == 1 and isinstance(refused.args[0], str):
            refused.args = (respell_flags(refused.args[0]),)  # same error type, hence exit code
        raise


def list_rows(docker: Any, user: User | None) -> list[dict[str, Any]]:
    """Listing rows with the framework each container came from (None for non-mlc ones);
    `user` None: every user's containers."""
    rows = []
    for entry in container_listing.list_entries(docker, user):
        item: dict[str, Any] = dict(container_listing.summary(entry))
        item["framework"] = (entry.get("Labels") or {}).get(LABEL_FRAMEWORK)
        rows.append(item)
    return rows


def update_sys_lines(version: str, is_admin: bool, checkout: str | None = None) -> list[str]:
    """What `mlc update-sys` says on a DS01 server; it changes nothing, for anyone."""
    lines = [f"DS01 {version}: containers and frameworks on this server are managed by DS01.",
             "The frameworks are the admin's images.frameworks table (`mlc create --info` shows it)."]
    if is_admin:
        where = checkout or "the DS01 source checkout this server was installed from"
        lines.append(f"To update DS01: bring {where} up to date, then run `make install` there as root "
                     "(running containers are not touched).")
    else:
        lines.append("Nothing was changed: updating DS01 is for admins (they run `make install`).")
    return lines
