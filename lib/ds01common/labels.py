"""Every Docker label DS01 reads or writes, spelled once.

Labels are how DS01 finds its own containers and images again: what the engine stores is the
record, so these names are part of the contract (renaming one orphans existing containers).
"""

from __future__ import annotations

from collections.abc import Mapping

from . import paths

MANAGED = "ds01.managed"  # "true" on every container and image DS01 made
USER = "ds01.user"  # the owner's name
UID = "ds01.uid"  # the owner's numeric uid, as text
PROJECT = "ds01.project"  # the container's short name, or the image's project
WORKSPACE = "ds01.workspace"  # the host directory mounted as the workspace
CREATED_AT = "ds01.created_at"  # ISO-8601 UTC creation time
GPU_SLOTS = "ds01.gpu.slots"  # comma-separated slot ids ("0,1:2"), "" for none
GPU_UUIDS = "ds01.gpu.uuids"  # the slots' GPU/MIG UUIDs, same order
MLC_FRAMEWORK = "ds01.mlc.framework"  # mlc-create's framework choice
PORT = "ds01.port"  # the 127.0.0.1 host port forwarded to the container's service port (8888)
HOME = "ds01.home"  # on images DS01 built: the user's home inside, a per-container directory

# A demo or test run keeps to its own containers with DS01_LABEL_SCOPE=<word> (a trusted
# environment only, like DS01_STATE_DIR): it labels them ds01.managed=<word>, and every listing
# then sees only those, never the real users' containers and slots.
MANAGED_VALUE = paths.trusted_environ("DS01_LABEL_SCOPE") or "true"
# The engine-side filter that lists DS01's containers and nothing else.
MANAGED_FILTER = {"label": f"{MANAGED}={MANAGED_VALUE}"}


def is_managed(labels: Mapping[str, str] | None) -> bool:
    """True for a container or image DS01 made."""
    return (labels or {}).get(MANAGED) == MANAGED_VALUE


def host_port(labels: Mapping[str, str] | None) -> int | None:
    """The host port a container's labels record, or None (made before ports existed)."""
    value = (labels or {}).get(PORT) or ""
    return int(value) if value.isdigit() else None


def slot_ids(labels: Mapping[str, str] | None) -> list[str]:
    """The GPU slot ids a container's labels name, in label order (empty for CPU-only; spaces
    around ids in a hand-made label are ignored)."""
    return [slot.strip() for slot in ((labels or {}).get(GPU_SLOTS) or "").split(",") if slot.strip()]
