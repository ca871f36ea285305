"""The ledger protocol under random interleavings of creators (hypothesis): reserve, create,
confirm, failures with and without the container made, `docker rm` behind DS01's back, and
reservations timing out. After every step the next command sees one holder per slot and no
slot held for a container that is gone."""

import contextlib
import shutil
import tempfile
from pathlib import Path

import docker.errors as engine_errors
from ds01common import allocator, labels, ledger
from ds01common.errors import ResourcesUnavailable
from ds01common.identity import User
from ds01common.records import Limits
from fakes.engine import FakeEngine, ds01_labels
from fakes.fake_config import SimConfig
from hypothesis import given, settings
from hypothesis import strategies as st

GPUS = [{"memory": "80g"}, {"memory": "80g", "mig": ["1g.10gb", "1g.10gb"]}]
LIMITS = Limits(max_mig_instances=None, max_gpus_per_container=2, max_gpu_equivalents=None,
                allow_full_gpu=True, max_containers_per_user=None, priority=10)
ACTIONS = ("start", "create", "confirm", "fail_after_create", "abort", "rm", "expire")


class Creator:
    """One container-create in progress, driven a step at a time."""

    def __init__(self, index):
        self.user = User(f"u{index % 2}", f"u{index % 2}", 1000 + index % 2, 1000, "/tmp")
        self.index, self.serial = index, 0
        self.context = self.allocation = self.container = None

    def name(self):
        return f"c{self.index}-{self.serial}._.{self.user.uid}"

    def finish(self, error=None):
        with contextlib.suppress(ResourcesUnavailable, RuntimeError):
            self.context.__exit__(type(error) if error else None, error, None)
        self.context = self.allocation = self.container = None
        self.serial += 1


def step(world, creator, action, count):
    docker, state_dir = world["docker"], world["state_dir"]
    if action == "start" and creator.context is None:
        context = allocator.reserve(docker, SimConfig(GPUS), creator.user, LIMITS, creator.name(),
                                    allocator.GpuRequest(count=count), state_dir=state_dir, log_dir=state_dir)
        try:
            creator.allocation = context.__enter__()
            creator.context = context
        except ResourcesUnavailable:
            creator.serial += 1
    elif action == "create" and creator.allocation is not None and creator.container is None:
        creator.container = docker.containers.create(
            name=creator.name(), labels={**ds01_labels(creator.user.name), **creator.allocation.labels})
    elif action == "confirm" and creator.container is not None:
        try:
            creator.allocation.confirm(creator.container.id)
        except ResourcesUnavailable:
            pass  # its reservation lapsed and the slot went elsewhere: it removed its container
        creator.finish()
    elif action == "fail_after_create" and creator.container is not None:
        creator.finish(RuntimeError("client timeout after the engine made the container"))
    elif action == "abort" and creator.context is not None:
        if creator.container is not None:
            with contextlib.suppress(engine_errors.NotFound):  # an `rm` step may have removed it already
                creator.container.remove(force=True)
        creator.finish(RuntimeError("create failed"))
    elif action == "rm":
        existing = docker.containers.list(all=True)
        if existing:
            existing[count % len(existing)].remove(force=True)
    elif action == "expire":  # every reservation so far is now older than the timeout: slow creators
        with ledger.transaction(docker, state_dir, log_dir=state_dir, reconciled=False) as state:
            for entry in state.reservations.values():
                entry.time -= 2 * ledger.reservation_timeout()


def _holder(assignments, slot_id):
    entry = assignments.get(slot_id)
    return entry.container if entry is not None else None


def labelled_slots(container):
    return labels.slot_ids(container.labels)


def check(world, creators):
    """After every step, for containers whose create has finished: no two are labelled with one
    slot, and each holds its labelled slots in the ledger (the invariant confirm relies on),
    before and after the next command's reconcile; no slot is held for a container that is gone.
    A create still in progress whose reservation lapsed may meanwhile be labelled with a slot
    someone else got: its confirm (or release) then removes it."""
    busy = {creator.name() for creator in creators if creator.context is not None}
    containers = {item.name: item for item in world["docker"].containers.list(all=True) if item.name not in busy}
    labelled = [slot for item in containers.values() for slot in labelled_slots(item)]
    assert len(labelled) == len(set(labelled)), f"two containers labelled with one slot: {sorted(labelled)}"
    stored = ledger.read_state(world["state_dir"])
    for item in containers.values():
        for slot_id in labelled_slots(item):
            holder = _holder(stored.assignments, slot_id)
            assert holder == item.name, f"{item.name}'s slot {slot_id} is held by {holder} in the ledger"
    with ledger.transaction(world["docker"], world["state_dir"], log_dir=world["state_dir"]) as state:
        for slot_id, entry in state.assignments.items():
            assert entry.container in containers or entry.container in busy, \
                f"slot {slot_id} held for {entry.container}, which is gone"
        reserved = [slot for entry in state.reservations.values() for slot in entry.slots]
        assert not set(reserved) & set(state.assignments)
        assert len(reserved) == len(set(reserved))
        for item in containers.values():
            for slot_id in labelled_slots(item):
                assert _holder(state.assignments, slot_id) == item.name


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 3), st.sampled_from(ACTIONS), st.integers(1, 2)),
                      min_size=1, max_size=30))
def test_no_interleaving_of_creators_gives_a_slot_twice_or_holds_one_for_nobody(steps):
    state_dir = Path(tempfile.mkdtemp(prefix="ds01-protocol-"))
    world = {"docker": FakeEngine(), "state_dir": state_dir}
    creators = [Creator(index) for index in range(4)]
    try:
        for index, action, count in steps:
            step(world, creators[index], action, count)
            check(world, creators)
        for creator in creators:
            if creator.context is not None:
                creator.finish(RuntimeError("the command ends"))
        check(world, creators)
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
