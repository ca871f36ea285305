"""The one Config attribute the allocator and inventory read: the simulated GPU list."""


class SimConfig:
    """A config whose `gpus.simulate` is `simulate` (None: real NVML discovery)."""

    def __init__(self, simulate):
        self.simulated_gpus = simulate
