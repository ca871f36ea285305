"""Which slots a request gets, or why not: a pure function of slots, holdings, limits, request.

Quotas are checked each on its own terms:
- `max_containers_per_user`: containers a user has (running or stopped); the one being
  created counts.
- `max_gpus_per_container`: slots in this one request.
- `max_mig_instances`: slots the user holds in total, across all their containers.
- `max_gpu_equivalents` (when set): the weight the user holds in total.
- `allow_full_gpu: false`: never a whole GPU, whatever is free.

Choice: a single default request takes a MIG slice on the least-loaded GPU (the smallest
slice there), a full GPU only when no slice is free and full GPUs are allowed; `full_gpu`
takes a whole unpartitioned GPU; multi-slot requests prefer whole GPUs.
"""

from dataclasses import dataclass, field

from .inventory import slot_sort_key

# Refusal kinds: only BUSY can be cured by waiting for someone else to free a slot.
BUSY = "busy"
QUOTA = "quota"
NOT_ALLOWED = "not_allowed"
NO_GPUS = "no_gpus"
_EPSILON = 1e-9


@dataclass(frozen=True)
class Request:
    count: int = 1
    full_gpu: bool = False


@dataclass
class Holdings:
    taken: set = field(default_factory=set)           # slot ids held or reserved by anyone
    user_slots: list = field(default_factory=list)    # slot ids held or reserved by this user
    user_weight: float = 0.0                          # their GPU-equivalents
    user_containers: int = 0                          # their DS01 containers, pending ones included


@dataclass(frozen=True)
class Choice:
    slots: tuple

    ok = True


@dataclass(frozen=True)
class Refusal:
    reason: str
    kind: str

    ok = False

    @property
    def waitable(self):
        return self.kind == BUSY


def _plural(count, word):
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _weight_text(value):
    return f"{value:.2f}".rstrip("0").rstrip(".") if value else "0"


def check_quotas(holdings, limits, request):
    """The first quota this request would break, as a Refusal, or None."""
    max_containers = limits.get("max_containers_per_user")
    if max_containers is not None and holdings.user_containers + 1 > max_containers:
        return Refusal(f"you have {holdings.user_containers} of {_plural(max_containers, 'container')} "
                       "(max_containers_per_user); remove one first", QUOTA)
    if request.count <= 0:
        return None
    per_container = limits.get("max_gpus_per_container")
    if per_container is not None and request.count > per_container:
        return Refusal(f"you asked for {_plural(request.count, 'GPU slot')}; one container may have at most "
                       f"{per_container} (max_gpus_per_container)", QUOTA)
    if request.full_gpu and not limits.get("allow_full_gpu"):
        return Refusal("your limits do not allow a full GPU (allow_full_gpu: false); "
                       "leave out --full-gpu to get a MIG slice", QUOTA)
    max_slots = limits.get("max_mig_instances")
    held = len(holdings.user_slots)
    if max_slots is not None and held + request.count > max_slots:
        more = "" if request.count == 1 else f"; {request.count} more would exceed it"
        return Refusal(f"you hold {held} of {max_slots} GPU slots (max_mig_instances){more}", QUOTA)
    return None


def _gpu_loads(slots, taken):
    """Taken weight per GPU index: what 'least-loaded' compares."""
    loads = {}
    for slot in slots:
        loads.setdefault(slot.gpu, 0.0)
        if slot.id in taken:
            loads[slot.gpu] += slot.weight
    return loads


def _preferred_order(candidates, loads, request):
    def single_key(slot):
        # MIG slices first, on the least-loaded GPU, the smallest slice there.
        return (not slot.is_mig, loads[slot.gpu], slot.weight, slot_sort_key(slot.id))

    def multi_key(slot):
        # Whole GPUs first, then slices from the least-loaded GPUs, biggest first.
        return (slot.is_mig, loads[slot.gpu], -slot.weight, slot_sort_key(slot.id))

    if request.full_gpu:
        return sorted((slot for slot in candidates if not slot.is_mig), key=lambda slot: slot_sort_key(slot.id))
    return sorted(candidates, key=single_key if request.count == 1 else multi_key)


def decide(slots, holdings, limits, request):
    """Choice(slots) or Refusal(reason, kind) for `request`; never a taken slot, never past a quota."""
    refusal = check_quotas(holdings, limits, request)
    if refusal:
        return refusal
    if request.count <= 0:
        return Choice(())
    if not slots:
        return Refusal("this host has no GPU slots", NO_GPUS)
    allow_full = bool(limits.get("allow_full_gpu"))
    usable = [slot for slot in slots if slot.is_mig or allow_full]
    if request.full_gpu:
        usable = [slot for slot in usable if not slot.is_mig]
    if len(usable) < request.count:
        return Refusal(_not_allowed_reason(slots, usable, request, allow_full), NOT_ALLOWED)
    free = [slot for slot in usable if slot.id not in holdings.taken]
    if len(free) < request.count:
        kind = "full GPUs" if request.full_gpu else "GPU slots you may use"
        return Refusal(f"no GPU free: {len(usable) - len(free)} of {len(usable)} {kind} are in use; "
                       f"you asked for {request.count}", BUSY)
    ordered = _preferred_order(free, _gpu_loads(slots, holdings.taken), request)
    chosen = ordered[:request.count]
    max_weight = limits.get("max_gpu_equivalents")
    if max_weight is not None:
        remaining = max_weight - holdings.user_weight
        if sum(slot.weight for slot in chosen) > remaining + _EPSILON:
            lightest = sorted(free, key=lambda slot: (slot.weight, slot_sort_key(slot.id)))[:request.count]
            needed = sum(slot.weight for slot in lightest)
            if needed > remaining + _EPSILON:
                return _weight_refusal(holdings, max_weight, needed, slots, usable, lightest)
            chosen = lightest
    return Choice(tuple(sorted(chosen, key=lambda slot: slot_sort_key(slot.id))))


def _weight_refusal(holdings, max_weight, needed, slots, usable, lightest):
    text = (f"you hold {_weight_text(holdings.user_weight)} of {_weight_text(max_weight)} GPU-equivalents "
            f"(max_gpu_equivalents); the smallest free choice needs {_weight_text(needed)} more")
    # Smaller slices may exist but be taken: then waiting helps; otherwise it never will.
    smallest_possible = sorted(slot.weight for slot in usable)[:len(lightest)]
    if sum(smallest_possible) <= max_weight - holdings.user_weight + _EPSILON:
        return Refusal(text, BUSY)
    return Refusal(text, QUOTA)


def _not_allowed_reason(slots, usable, request, allow_full):
    if request.full_gpu:
        whole = sum(1 for slot in slots if not slot.is_mig)
        return (f"this host has {_plural(whole, 'unpartitioned GPU')}; you asked for "
                f"{_plural(request.count, 'full GPU')}")
    if not allow_full and not any(slot.is_mig for slot in slots):
        return "this host has only full GPUs and your limits do not allow one (allow_full_gpu: false)"
    return (f"this host has {_plural(len(usable), 'GPU slot')} you may use; you asked for "
            f"{request.count}")


def user_holdings(entries, user):
    """Holdings from ledger-style entries: iterable of (slot_id, owner, weight)."""
    holdings = Holdings()
    for slot_id, owner, weight in entries:
        holdings.taken.add(slot_id)
        if owner == user:
            holdings.user_slots.append(slot_id)
            holdings.user_weight += weight
    return holdings
