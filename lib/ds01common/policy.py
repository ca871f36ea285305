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

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .inventory import Slot, slot_sort_key

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import ClassVar, Literal

    from .records import Limits

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
    taken: set[str] = field(default_factory=set)         # slot ids held or reserved by anyone
    user_slots: list[str] = field(default_factory=list)  # slot ids held or reserved by this user
    user_weight: float = 0.0                          # their GPU-equivalents
    user_containers: int = 0                          # their DS01 containers, pending ones included


@dataclass(frozen=True)
class Choice:
    slots: tuple[Slot, ...]

    # A class attribute, not a field; the Literal type lets a type checker tell the two apart by `ok`.
    if TYPE_CHECKING:
        ok: ClassVar[Literal[True]] = True
    else:
        ok = True


@dataclass(frozen=True)
class Refusal:
    reason: str
    kind: str

    if TYPE_CHECKING:
        ok: ClassVar[Literal[False]] = False
    else:
        ok = False

    @property
    def waitable(self) -> bool:
        return self.kind == BUSY


def _plural(count: int, word: str) -> str:
    if count == 0:
        return f"no {word}s"
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _weight_text(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value else "0"


def _at_limit(have: int, limit: int, what: str, key: str, verb: str = "have") -> str:
    """'you have 3 containers, the most allowed (max_containers_per_user = 3)' and its variants."""
    setting = f"({key} = {limit})"
    if limit == 0 and have == 0:
        return f"your limits allow no {what}s {setting}"
    if have > limit:
        return f"you {verb} {_plural(have, what)}, more than the {limit} allowed {setting}"
    return f"you {verb} {_plural(have, what)}, the most allowed {setting}"


def check_quotas(holdings: Holdings, limits: Limits, request: Request) -> Refusal | None:
    """The first quota this request would break, as a Refusal, or None."""
    max_containers = limits.max_containers_per_user
    if max_containers is not None and holdings.user_containers + 1 > max_containers:
        text = _at_limit(holdings.user_containers, max_containers, "container", "max_containers_per_user")
        extra = holdings.user_containers + 1 - max_containers
        remove = "; remove one first" if extra == 1 else f"; remove {extra} first"
        remove = remove if holdings.user_containers else ""
        return Refusal(text + remove, QUOTA)
    if request.count <= 0:
        return None
    per_container = limits.max_gpus_per_container
    if per_container is not None and request.count > per_container:
        if per_container == 0:
            return Refusal("your limits allow no GPU slot in a container (max_gpus_per_container = 0); "
                           "use --cpu-only", QUOTA)
        return Refusal(f"you asked for {_plural(request.count, 'GPU slot')}; one container may have at most "
                       f"{per_container} (max_gpus_per_container = {per_container})", QUOTA)
    if request.full_gpu and not limits.allow_full_gpu:
        return Refusal("your limits do not allow a full GPU (allow_full_gpu = false); "
                       "leave out --full-gpu to get a MIG slice", QUOTA)
    max_slots = limits.max_mig_instances
    held = len(holdings.user_slots)
    if max_slots is not None and held + request.count > max_slots:
        setting = f"(max_mig_instances = {max_slots})"
        if max_slots == 0 and held == 0:
            return Refusal(f"your limits allow no GPU slots {setting}; use --cpu-only", QUOTA)
        if held == 0:
            return Refusal(f"you asked for {_plural(request.count, 'GPU slot')}; you may hold at most "
                           f"{max_slots} in total {setting}", QUOTA)
        if held < max_slots:  # room for some, not for all of this request
            return Refusal(f"you hold {held} of {max_slots} GPU slots allowed {setting}; "
                           f"{request.count} more would make {held + request.count}", QUOTA)
        if held == max_slots:
            return Refusal(f"you hold {held} of {max_slots} GPU slots allowed {setting}; "
                           "remove a container holding one first", QUOTA)
        return Refusal(_at_limit(held, max_slots, "GPU slot", "max_mig_instances", verb="hold"), QUOTA)
    return None


def _gpu_loads(slots: Iterable[Slot], taken: set[str]) -> dict[int, float]:
    """Taken weight per GPU index: what 'least-loaded' compares."""
    loads: dict[int, float] = {}
    for slot in slots:
        loads.setdefault(slot.gpu, 0.0)
        if slot.id in taken:
            loads[slot.gpu] += slot.weight
    return loads


def _preferred_order(candidates: list[Slot], loads: dict[int, float], request: Request) -> list[Slot]:
    def single_key(slot: Slot) -> tuple[bool, float, float, tuple[int | str, ...]]:
        # MIG slices first, on the least-loaded GPU, the smallest slice there.
        return (not slot.is_mig, loads[slot.gpu], slot.weight, slot_sort_key(slot.id))

    def multi_key(slot: Slot) -> tuple[bool, float, float, tuple[int | str, ...]]:
        # Whole GPUs first, then slices from the least-loaded GPUs, biggest first.
        return (slot.is_mig, loads[slot.gpu], -slot.weight, slot_sort_key(slot.id))

    if request.full_gpu:
        return sorted((slot for slot in candidates if not slot.is_mig), key=lambda slot: slot_sort_key(slot.id))
    return sorted(candidates, key=single_key if request.count == 1 else multi_key)


def decide(slots: Sequence[Slot], holdings: Holdings, limits: Limits, request: Request) -> Choice | Refusal:
    """Choice(slots) or Refusal(reason, kind) for `request`; never a taken slot, never past a quota."""
    refusal = check_quotas(holdings, limits, request)
    if refusal:
        return refusal
    if request.count <= 0:
        return Choice(())
    if not slots:
        return Refusal("this host has no GPU slots", NO_GPUS)
    allow_full = limits.allow_full_gpu
    usable = [slot for slot in slots if slot.is_mig or allow_full]
    if request.full_gpu:
        usable = [slot for slot in usable if not slot.is_mig]
    if len(usable) < request.count:
        return Refusal(_not_allowed_reason(slots, usable, request, allow_full), NOT_ALLOWED)
    max_weight = limits.max_gpu_equivalents
    remaining = None if max_weight is None else max_weight - holdings.user_weight
    if max_weight is not None and remaining is not None:
        # Checked against the lightest slots on the host, taken or not: if even those do not fit,
        # waiting can never help, so this is a quota refusal and not "busy". (Slots the user holds
        # count as ones that may come free: their containers can be retired meanwhile.)
        lightest_anywhere = sum(sorted(slot.weight for slot in usable)[:request.count])
        if lightest_anywhere > remaining + _EPSILON:
            return Refusal(_weight_reason(holdings, max_weight, lightest_anywhere, "the smallest choice"), QUOTA)
    free = [slot for slot in usable if slot.id not in holdings.taken]
    if len(free) < request.count:
        return Refusal(_busy_reason(usable, free, request), BUSY)
    ordered = _preferred_order(free, _gpu_loads(slots, holdings.taken), request)
    chosen = ordered[:request.count]
    if max_weight is not None and remaining is not None \
            and sum(slot.weight for slot in chosen) > remaining + _EPSILON:
        chosen = sorted(free, key=lambda slot: (slot.weight, slot_sort_key(slot.id)))[:request.count]
        needed = sum(slot.weight for slot in chosen)
        if needed > remaining + _EPSILON:
            # Smaller slices exist (checked above) but are taken: waiting helps.
            return Refusal(_weight_reason(holdings, max_weight, needed, "the smallest free choice"), BUSY)
    return Choice(tuple(sorted(chosen, key=lambda slot: slot_sort_key(slot.id))))


def _weight_reason(holdings: Holdings, max_weight: float, needed: float, which: str) -> str:
    held, limit = _weight_text(holdings.user_weight), _weight_text(max_weight)
    setting = f"(max_gpu_equivalents = {limit})"
    if holdings.user_weight > max_weight + _EPSILON:
        return f"you hold {held} GPU-equivalents, more than the {limit} allowed {setting}"
    return (f"you hold {held} of {limit} GPU-equivalents allowed {setting}; "
            f"{which} would add {_weight_text(needed)}, making {_weight_text(holdings.user_weight + needed)}")


def _busy_reason(usable: list[Slot], free: list[Slot], request: Request) -> str:
    kind = "full GPUs" if request.full_gpu else "GPU slots you may use"
    if not free:
        return f"no GPU free: all {len(usable)} {kind} are in use"
    return (f"not enough GPUs free: you asked for {request.count} and only {len(free)} of the "
            f"{len(usable)} {kind} {'is' if len(free) == 1 else 'are'} free")


def _not_allowed_reason(slots: Sequence[Slot], usable: list[Slot], request: Request, allow_full: bool) -> str:
    if request.full_gpu:
        whole = sum(1 for slot in slots if not slot.is_mig)
        return (f"this host has {_plural(whole, 'unpartitioned GPU')}; you asked for "
                f"{_plural(request.count, 'full GPU')}")
    if not allow_full and not any(slot.is_mig for slot in slots):
        return "this host has only full GPUs and your limits do not allow one (allow_full_gpu = false)"
    return (f"this host has {_plural(len(usable), 'GPU slot')} you may use; you asked for "
            f"{request.count}")


def user_holdings(entries: Iterable[tuple[str, str | None, float]], user: str | None) -> Holdings:
    """Holdings from ledger-style entries: iterable of (slot_id, owner, weight)."""
    holdings = Holdings()
    for slot_id, owner, weight in entries:
        holdings.taken.add(slot_id)
        if owner == user:
            holdings.user_slots.append(slot_id)
            holdings.user_weight += weight
    return holdings
