"""The Config attributes the allocator and inventory read: the simulated GPU list, gpus.avoid_busy."""


class SimConfig:
    """A config whose `gpus.simulate` is `simulate` (None: real NVML discovery)."""

    def __init__(self, simulate, avoid_busy=False):
        self.simulated_gpus = simulate
        self.avoid_busy_gpus = avoid_busy
