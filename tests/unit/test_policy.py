"""The allocation policy: choices, each quota on its own terms, refusal reasons with numbers;
and hypothesis properties: never a taken slot, never a slot twice, never past a quota."""

import re
from dataclasses import replace

from ds01common import inventory, policy
from ds01common.policy import Holdings, Request
from ds01common.records import Limits
from hypothesis import given, settings
from hypothesis import strategies as st

MIXED = inventory.simulated([
    {"memory": "80g"}, {"memory": "80g"},
    {"memory": "80g", "mig": ["3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"]},
    {"memory": "80g", "mig": ["1g.10gb", "1g.10gb", "1g.10gb"]}]).slots
STUDENT = Limits(max_mig_instances=1, max_gpus_per_container=1, max_gpu_equivalents=None,
                 allow_full_gpu=False, max_containers_per_user=3)
RESEARCHER = Limits(max_mig_instances=4, max_gpus_per_container=4, max_gpu_equivalents=None,
                    allow_full_gpu=True, max_containers_per_user=None)
UNLIMITED = Limits(max_mig_instances=None, max_gpus_per_container=None, max_gpu_equivalents=None,
                   allow_full_gpu=True, max_containers_per_user=None)


def held(*slot_ids, mine=()):
    weights = {slot.id: slot.weight for slot in MIXED}
    entries = [(slot_id, "other", weights.get(slot_id, 1.0)) for slot_id in slot_ids]
    entries += [(slot_id, "me", weights.get(slot_id, 1.0)) for slot_id in mine]
    return policy.user_holdings(entries, "me")


def ids(decision):
    assert decision.ok, getattr(decision, "reason", None)
    return [slot.id for slot in decision.slots]


def test_default_request_gets_a_mig_slice_on_the_least_loaded_gpu():
    # GPU 2 has 3/7 taken, GPU 3 has 1/7 taken: the slice comes from GPU 3.
    assert ids(policy.decide(MIXED, held("2:0", "3:0"), RESEARCHER, Request())) == ["3:1"]
    # With GPU 3 busier, the smallest free slice on GPU 2.
    assert ids(policy.decide(MIXED, held("2:2", "3:0", "3:1"), RESEARCHER, Request())) == ["2:3"]


def test_default_request_prefers_a_slice_to_a_full_gpu_even_when_full_gpus_are_allowed():
    assert ids(policy.decide(MIXED, held(), RESEARCHER, Request()))[0].count(":") == 1


def test_default_request_takes_a_full_gpu_only_when_no_slice_is_free():
    all_slices = [slot.id for slot in MIXED if slot.is_mig]
    assert ids(policy.decide(MIXED, held(*all_slices), RESEARCHER, Request())) == ["0"]


def test_student_never_gets_a_full_gpu():
    all_slices = [slot.id for slot in MIXED if slot.is_mig]
    refusal = policy.decide(MIXED, held(*all_slices), STUDENT, Request())
    assert not refusal.ok and refusal.waitable
    refusal = policy.decide(MIXED, held(), STUDENT, Request(full_gpu=True))
    assert not refusal.ok and "allow_full_gpu" in refusal.reason and not refusal.waitable


def test_full_gpu_request_takes_a_whole_unpartitioned_gpu():
    assert ids(policy.decide(MIXED, held("0"), RESEARCHER, Request(full_gpu=True))) == ["1"]
    refusal = policy.decide(MIXED, held("0", "1"), RESEARCHER, Request(full_gpu=True))
    assert refusal.kind == policy.BUSY and refusal.reason == "no GPU free: all 2 full GPUs are in use"


def test_multi_slot_requests_prefer_whole_gpus():
    assert ids(policy.decide(MIXED, held(), RESEARCHER, Request(count=2))) == ["0", "1"]
    assert ids(policy.decide(MIXED, held("1"), RESEARCHER, Request(count=2)))[0] == "0"


def test_max_mig_instances_counts_every_slot_the_user_holds():
    refusal = policy.decide(MIXED, held(mine=["2:2"]), STUDENT, Request())
    assert refusal.reason == ("you hold 1 of 1 GPU slots allowed (max_mig_instances = 1); "
                              "remove a container holding one first")
    assert refusal.kind == policy.QUOTA


def test_max_gpus_per_container_bounds_one_request_not_the_total():
    limits = replace(RESEARCHER, max_gpus_per_container=2)
    refusal = policy.decide(MIXED, held(), limits, Request(count=3))
    assert refusal.reason == "you asked for 3 GPU slots; one container may have at most 2 (max_gpus_per_container = 2)"
    # Holding 2 already is fine for a new 2-slot container while the total quota (4) allows it.
    assert len(ids(policy.decide(MIXED, held(mine=["0", "1"]), limits, Request(count=2)))) == 2


def test_max_gpu_equivalents_is_checked_when_set():
    limits = replace(RESEARCHER, max_gpu_equivalents=0.5)
    refusal = policy.decide(MIXED, held(mine=["2:0"]), limits, Request(full_gpu=True))
    assert refusal.reason == ("you hold 0.43 of 0.5 GPU-equivalents allowed (max_gpu_equivalents = 0.5); "
                              "the smallest choice would add 1, making 1.43")
    assert refusal.kind == policy.QUOTA
    # A small slice still fits: 3/7 + 1/7 <= 0.5? No (0.57) -> refused; with nothing held a 1g fits.
    assert not policy.decide(MIXED, held(mine=["2:0"]), limits, Request()).ok
    assert ids(policy.decide(MIXED, held(), limits, Request())) in (["3:0"], ["2:2"], ["2:3"])


def test_gpu_equivalent_quota_falls_back_to_smaller_slices():
    limits = replace(RESEARCHER, max_gpu_equivalents=0.3)
    chosen = policy.decide(MIXED, held(), limits, Request(count=2))
    assert sum(slot.weight for slot in chosen.slots) <= 0.3


def test_container_limit_counts_the_container_being_created():
    holdings = Holdings(user_containers=3)
    refusal = policy.decide(MIXED, holdings, STUDENT, Request(count=0))
    assert refusal.reason == ("you have 3 containers, the most allowed (max_containers_per_user = 3); "
                              "remove one first")
    assert policy.decide(MIXED, Holdings(user_containers=2), STUDENT, Request(count=0)).ok


def test_being_over_a_lowered_limit_is_said_in_words_not_as_4_of_3():
    refusal = policy.decide(MIXED, Holdings(user_containers=4), STUDENT, Request())
    assert refusal.reason == ("you have 4 containers, more than the 3 allowed (max_containers_per_user = 3); "
                              "remove 2 first")
    refusal = policy.decide(MIXED, held(mine=["2:2", "2:3"]), STUDENT, Request())
    assert refusal.reason == "you hold 2 GPU slots, more than the 1 allowed (max_mig_instances = 1)"


def test_a_partly_met_multi_slot_request_says_how_many_are_free():
    taken = [slot.id for slot in MIXED if slot.id not in ("0", "3:2")]
    refusal = policy.decide(MIXED, held(*taken), RESEARCHER, Request(count=3))
    assert refusal.kind == policy.BUSY
    assert refusal.reason == ("not enough GPUs free: you asked for 3 and only 2 of the 9 GPU slots you may use "
                              "are free")


def test_a_request_only_the_users_own_slots_could_meet_waits_since_those_may_be_retired():
    refusal = policy.decide(MIXED, held(mine=["0", "1"]), RESEARCHER, Request(full_gpu=True))
    assert refusal.kind == policy.BUSY and refusal.reason == "no GPU free: all 2 full GPUs are in use"


def test_cpu_only_request_takes_no_slot():
    assert policy.decide(MIXED, held(), STUDENT, Request(count=0)).slots == ()


def test_busy_refusal_gives_the_numbers():
    every = [slot.id for slot in MIXED]
    refusal = policy.decide(MIXED, held(*every), RESEARCHER, Request())
    assert refusal.kind == policy.BUSY
    assert refusal.reason == "no GPU free: all 9 GPU slots you may use are in use"


def test_host_without_slots_is_its_own_refusal():
    assert policy.decide([], held(), STUDENT, Request()).kind == policy.NO_GPUS


def test_student_on_a_host_with_only_full_gpus_is_told_why_and_does_not_wait():
    full_only = inventory.simulated([{"memory": "80g"}]).slots
    refusal = policy.decide(full_only, held(), STUDENT, Request())
    assert refusal.kind == policy.NOT_ALLOWED and "allow_full_gpu" in refusal.reason


# --- properties ---

limit_values = st.one_of(st.none(), st.integers(min_value=0, max_value=5))
limits_strategy = st.fixed_dictionaries({
    "max_mig_instances": limit_values, "max_gpus_per_container": limit_values,
    "max_gpu_equivalents": st.one_of(st.none(), st.sampled_from([0.15, 0.3, 0.5, 1.0, 2.0, 3.5])),
    "allow_full_gpu": st.booleans(), "max_containers_per_user": limit_values})
slot_ids = [slot.id for slot in MIXED]


@settings(max_examples=1000, deadline=None)
@given(limits=limits_strategy,
       taken_by_others=st.sets(st.sampled_from(slot_ids)),
       mine=st.sets(st.sampled_from(slot_ids)),
       containers=st.integers(min_value=0, max_value=6),
       count=st.integers(min_value=0, max_value=5), full_gpu=st.booleans())
def test_a_choice_never_takes_a_taken_slot_a_slot_twice_or_goes_past_a_quota(
        limits, taken_by_others, mine, containers, count, full_gpu):
    mine = mine - taken_by_others
    holdings = held(*taken_by_others, mine=sorted(mine))
    holdings.user_containers = containers
    decision = policy.decide(MIXED, holdings, Limits.from_mapping(limits), Request(count=count, full_gpu=full_gpu))
    if not decision.ok:
        assert decision.reason and decision.kind in (policy.BUSY, policy.QUOTA, policy.NOT_ALLOWED)
        return
    chosen = [slot.id for slot in decision.slots]
    assert len(chosen) == len(set(chosen)) == count
    assert not set(chosen) & (taken_by_others | mine)
    if limits["max_containers_per_user"] is not None:
        assert containers + 1 <= limits["max_containers_per_user"]
    if count and limits["max_gpus_per_container"] is not None:
        assert count <= limits["max_gpus_per_container"]
    if count and limits["max_mig_instances"] is not None:
        assert len(mine) + count <= limits["max_mig_instances"]
    if count and limits["max_gpu_equivalents"] is not None:
        added = sum(slot.weight for slot in decision.slots)
        assert holdings.user_weight + added <= limits["max_gpu_equivalents"] + 1e-9
    if not limits["allow_full_gpu"]:
        assert all(slot.is_mig for slot in decision.slots)
    if full_gpu:
        assert all(not slot.is_mig for slot in decision.slots)


def _setting(key, value):
    text = ("true" if value else "false") if isinstance(value, bool) else value
    if isinstance(value, float):
        text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"({key} = {text})"


@settings(max_examples=1000, deadline=None)
@given(limits=limits_strategy, mine=st.sets(st.sampled_from(slot_ids)), containers=st.integers(0, 6),
       count=st.integers(min_value=1, max_value=5), full_gpu=st.booleans())
def test_a_quota_refusal_names_the_limit_it_broke_with_its_value_and_that_limit_really_is_broken(
        limits, mine, containers, count, full_gpu):
    holdings = held(mine=sorted(mine))
    holdings.user_containers = containers
    decision = policy.decide(MIXED, holdings, Limits.from_mapping(limits), Request(count=count, full_gpu=full_gpu))
    if decision.ok or decision.kind != policy.QUOTA:
        return
    reason = decision.reason
    broken = [key for key in limits if _setting(key, limits[key]) in reason]
    assert len(broken) == 1, reason
    key = broken[0]
    if key == "max_containers_per_user":
        assert containers + 1 > limits[key]
        assert str(containers) in reason or limits[key] == 0
    elif key == "max_gpus_per_container":
        assert count > limits[key]
    elif key == "max_mig_instances":
        assert len(mine) + count > limits[key]
        assert f"you hold {len(mine)} " in reason or not mine
    elif key == "max_gpu_equivalents":
        possible = sorted(slot.weight for slot in MIXED
                          if (slot.is_mig or limits["allow_full_gpu"]) and not (full_gpu and slot.is_mig))
        assert holdings.user_weight + sum(possible[:count]) > limits[key] + 1e-9  # even the lightest do not fit
    else:
        assert key == "allow_full_gpu" and full_gpu and not limits[key]
    for have, most in re.findall(r"(\d+(?:\.\d+)?) of (\d+(?:\.\d+)?)", reason):
        assert float(have) <= float(most), reason  # never "4 of 3": over a limit is said in words


@settings(max_examples=1000, deadline=None)
@given(limits=limits_strategy, taken_by_others=st.sets(st.sampled_from(slot_ids)),
       mine=st.sets(st.sampled_from(slot_ids)), count=st.integers(min_value=1, max_value=5),
       full_gpu=st.booleans())
def test_a_busy_refusal_is_one_that_waiting_can_cure_and_no_other_refusal_is(
        limits, taken_by_others, mine, count, full_gpu):
    mine = mine - taken_by_others
    request = Request(count=count, full_gpu=full_gpu)
    decision = policy.decide(MIXED, held(*taken_by_others, mine=sorted(mine)), Limits.from_mapping(limits), request)
    if decision.ok:
        return
    if decision.waitable:  # cured once the holders leave (the user's own containers may be retired)
        assert policy.decide(MIXED, held(), Limits.from_mapping(limits), request).ok, decision
    else:  # other users leaving never cures it
        assert not policy.decide(MIXED, held(mine=sorted(mine)), Limits.from_mapping(limits), request).ok, decision


@settings(max_examples=100, deadline=None)
@given(order=st.permutations(list(range(8))))
def test_repeated_single_requests_never_hand_out_a_slot_twice(order):
    holdings = Holdings()
    handed = []
    for _ in order:
        decision = policy.decide(MIXED, holdings, UNLIMITED, Request())
        if not decision.ok:
            break
        handed.extend(slot.id for slot in decision.slots)
        holdings.taken.update(slot.id for slot in decision.slots)
    assert len(handed) == len(set(handed)) == 8
