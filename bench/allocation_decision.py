#!/usr/bin/env python3
"""Decision latency: 64 GPUs x 7 MIG slots, 1,000 DS01 containers in the ledger (fake Docker listing).

Times a whole reservation (lock, reconcile with the listing, policy, write) and the policy
alone; the target is under 20 ms per decision. The ledger lives in a temp dir on disk (each
write is fsync'd); set BENCH_STATE_PARENT=/dev/shm to leave the disk out."""

import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lib"), str(ROOT / "tests")]

from ds01common import allocator, inventory, ledger, policy  # noqa: E402
from ds01common.identity import User  # noqa: E402
from ds01common.records import Limits  # noqa: E402
from fakes.engine import FakeEngine, ds01_labels  # noqa: E402

GPUS, CONTAINERS, HELD, ROUNDS = 64, 1000, 440, 200
LIMITS = Limits(max_mig_instances=None, max_gpus_per_container=1, max_gpu_equivalents=None,
                allow_full_gpu=False, max_containers_per_user=None, priority=10)


class SimConfig:
    simulated_gpus = [{"memory": "80g", "mig": ["1g.10gb"] * 7}] * GPUS
    avoid_busy_gpus = False


def main():
    work = Path(tempfile.mkdtemp(prefix="ds01-bench-", dir=os.environ.get("BENCH_STATE_PARENT")))
    atexit.register(shutil.rmtree, work, True)  # the ledger and event log are ~200 KB a run; leave nothing
    os.environ["DS01_LOG_DIR"] = str(work)
    config = SimConfig()
    inv = inventory.discover(config)
    slots = inv.slots
    docker = FakeEngine()
    for index in range(CONTAINERS):
        slot = slots[index].id if index < HELD else ""
        docker.containers.add(f"c{index}._.{1000 + index % 50}", ds01_labels(f"user{index % 50}", slot))
    with ledger.transaction(docker, work, log_dir=work):
        pass  # adopts the 440 held slots
    user = User("bench", "bench", 4242, 4242, "/tmp")
    timings = []
    for round_ in range(ROUNDS):
        started = time.perf_counter()
        with allocator.reserve(docker, config, user, LIMITS, f"b{round_}._.4242", allocator.GpuRequest(),
                               state_dir=work, log_dir=work, inventory_=inv) as allocation:
            timings.append(time.perf_counter() - started)
            assert allocation.slots, "no slot chosen"
    holdings = policy.user_holdings(((slot.id, "other", slot.weight) for slot in slots[:HELD]), "bench")
    policy_timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        policy.decide(slots, holdings, LIMITS, policy.Request())
        policy_timings.append(time.perf_counter() - started)
    timings.sort()
    median, p95 = statistics.median(timings) * 1000, timings[int(len(timings) * 0.95)] * 1000
    print(f"{len(slots)} slots, {CONTAINERS} containers ({HELD} holding slots), {ROUNDS} decisions")
    print(f"reserve (lock + reconcile + policy + write): median {median:.2f} ms, p95 {p95:.2f} ms")
    print(f"policy alone: median {statistics.median(policy_timings) * 1000:.3f} ms")
    print(f"target < 20 ms: {'met' if p95 < 20 else 'NOT met'} (p95 / target = {p95 / 20:.2f})")


if __name__ == "__main__":
    main()
