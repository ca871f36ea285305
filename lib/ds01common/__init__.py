"""DS01's shared library: config, identity, state, Docker, GPUs and the commands' logic.

Submodules are imported where they are used, so `--help` and commands that need neither
Docker nor NVML stay fast and work on hosts without them.
"""

__version__ = "0.1.0"
