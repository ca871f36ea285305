"""One small DS01 host for library tests of the container lifecycle, shared by the test modules
that need it: the fake engine (tests/fakes/engine.py), a config with simulated GPUs that the real
allocator hands out (its ledger in the test's state dir), and the users alice and bob.

No module is swapped: what a test checks about GPUs it reads from the ledger, as `gpu-allocator
status` does."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ds01common import config as config_module
from ds01common import identity, ledger
from fakes.engine import DEFAULT_IMAGE, FakeEngine
from helpers import write_config

WHOLE_GPU = {"model": "NVIDIA A100-SXM4-80GB", "memory": "80g"}
# Slot "0" (all of GPU 0) and slot "1:0" (GPU 1's one MIG instance).
TWO_SLOTS = [WHOLE_GPU, {**WHOLE_GPU, "mig": ["3g.40gb"]}]
# Limits that let alice and bob each take either slot, and two at once.
GENEROUS = {"max_mig_instances": 2, "max_gpus_per_container": 1, "allow_full_gpu": True, "max_cpus": 2,
            "memory": "1g", "shm_size": "64m", "pids_limit": 256, "max_containers_per_user": 8}


@dataclass
class Host:
    env: dict[str, Any]          # conftest's ds01_env: config, state, log, workspace_root paths
    engine: FakeEngine
    config: Any
    alice: identity.User
    bob: identity.User
    settings: dict[str, Any] = field(default_factory=dict)  # what the config file was written from

    @property
    def state(self) -> Path:
        return Path(self.env["state"])

    @property
    def log(self) -> Path:
        return Path(self.env["log"])

    @property
    def workspaces(self) -> Path:
        return Path(self.env["workspace_root"])

    def user(self, name: str) -> identity.User:
        return {"alice": self.alice, "bob": self.bob}[name]

    def reconfigure(self, overrides: dict[str, Any]) -> None:
        """Rewrite the config file with `overrides` (top-level keys replaced) and load it again."""
        self.settings.update(overrides)
        write_config(self.env, self.settings)
        self.config = config_module.load(self.env["config"])

    def held(self) -> dict[str, str]:
        """{slot id: docker name of the container holding it}, from the allocator's ledger."""
        return {slot: entry.container for slot, entry in ledger.read_state(self.state).assignments.items()}

    def pending(self) -> dict[str, Any]:
        """The ledger's reservations not yet confirmed by a create (none, once a create is done)."""
        return dict(ledger.read_state(self.state).reservations)


def make_host(ds01_env: dict[str, Any], overrides: dict[str, Any] | None = None,
              images: tuple[str, ...] = (DEFAULT_IMAGE,)) -> Host:
    """A host on `ds01_env` with the TWO_SLOTS GPUs and GENEROUS limits, `overrides` on top."""
    settings = {"defaults": dict(GENEROUS), "gpus": {"simulate": TWO_SLOTS}, **(overrides or {})}
    write_config(ds01_env, settings)
    home = Path(ds01_env["root"]) / "home-alice"
    home.mkdir(exist_ok=True)
    alice = identity.User("alice", "alice", os.getuid(), os.getgid(), str(home))
    bob = identity.User("bob", "bob", os.getuid() + 1, os.getgid(), str(home))
    host = Host(env=ds01_env, engine=FakeEngine(images=images), config=config_module.load(ds01_env["config"]),
                alice=alice, bob=bob, settings=settings)
    return host
