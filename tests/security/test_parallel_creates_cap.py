"""Attack: parallel creates by one user exceeded `max_containers_per_user`.

Two layers. The ledger's reservation check, the part that decides, in 100 bursts of 8 racing
threads each (threads contend for the ledger's flock exactly as processes do, each opening its
own lock file description), against an in-memory engine whose listings may be stale; and the
installed command as a real user, 8 at once, in 2 bursts on the real engine (each burst costs
seconds of real container creates, so 100 of them would not fit the suite's time budget)."""

import os
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

from attack_site import IMAGE, containers_of, remove_containers_of
from ds01common import allocator, ledger
from ds01common.errors import ResourcesUnavailable
from ds01common.identity import User
from ds01common.records import Limits
from fakes.engine import FakeEngine, ds01_labels
from fakes.fake_config import SimConfig

CAP = 3
ALICE = User("alice", "alice", 1000, 1000, "/home/alice")
LIMITS = Limits(max_mig_instances=1, max_gpus_per_container=1, max_gpu_equivalents=None, allow_full_gpu=False,
                max_containers_per_user=CAP, priority=10)


class LockedDocker(FakeEngine):
    """The fake engine, safe to share between threads (the real one serialises its API too)."""

    def __init__(self):
        super().__init__()
        guard = threading.Lock()
        containers = self.containers
        for method in ("list", "create", "get"):
            original = getattr(containers, method)

            def locked(*args, _original=original, **kwargs):
                with guard:
                    return _original(*args, **kwargs)
            setattr(containers, method, locked)


def create(docker, state_dir, name):
    try:
        with allocator.reserve(docker, SimConfig([]), ALICE, LIMITS, f"{name}._.1000",
                               allocator.GpuRequest(count=0, full_gpu=False, explicit=True),
                               state_dir=state_dir, log_dir=state_dir) as allocation:
            container = docker.containers.create(name=f"{name}._.1000",
                                                 labels={**ds01_labels("alice"), **allocation.labels})
            allocation.confirm(container.id)
        return True
    except ResourcesUnavailable:
        return False


def test_one_hundred_bursts_of_eight_racing_creates_never_pass_the_cap(tmp_path):
    for burst in range(100):
        docker = LockedDocker()
        state_dir = tmp_path / f"burst-{burst}"
        state_dir.mkdir()
        already = burst % CAP  # some bursts start with containers the user already has
        for index in range(already):
            assert create(docker, state_dir, f"old{index}")
        with ThreadPoolExecutor(8) as pool:
            made = sum(pool.map(create, [docker] * 8, [state_dir] * 8, [f"b{burst}x{index}" for index in range(8)]))
        assert made == CAP - already, (burst, made)
        assert len(docker.containers.list(all=True)) == CAP


def test_a_create_confirmed_after_an_older_listing_still_counts_even_once_a_newer_one_saw_it(tmp_path):
    """The race behind the attack: the confirmed create was dropped from `recent` by a reconcile
    whose listing showed it, then a transaction with an older listing did not count it."""
    data = ledger.LedgerDocument()
    old_listing_at = 100.0
    container = ledger.ContainerInfo("a._.1000", "id-a", "alice", [], "created", "")
    data.recent["a._.1000"] = ledger.RecentCreate("alice", 101.0)
    ledger.reconcile(data, [container], now=102.0, listed_at=102.0)  # a newer listing shows it
    state = ledger.State(data, [], listed_at=old_listing_at)         # a listing from before it
    assert state.user_containers("alice") == {"a._.1000"}


def test_eight_parallel_creates_by_one_real_user_stay_within_the_cap(site):
    try:
        for burst in range(2):
            commands = [["runuser", "-u", site["mallory"].pw_name, "--", str(site["bin"] / "container-create"),
                         f"race{burst}x{index}", "--cpu-only", "--image", IMAGE] for index in range(8)]
            env = {**os.environ, **{key: str(value) for key, value in site["env"].items()}}
            running = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                       for command in commands]
            codes = [process.wait(timeout=120) for process in running]
            assert sorted(codes) == [0, 0, 0, 3, 3, 3, 3, 3], [process.stderr.read() for process in running]
            assert len(containers_of(site, "mallory")) == 3
            remove_containers_of(site, "mallory")
    finally:
        remove_containers_of(site, "mallory")
