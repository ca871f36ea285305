"""A real one-node Slurm for the session (tests/slurm/start-slurm.sh): munged, MariaDB,
slurmdbd, slurmctld and slurmd, with fake GPUs as GRES (gpu:h100:1, gpu:1g.10gb:2).
Only what the script started is stopped at the end. Missing packages are a skip, or a
failure under DS01_REQUIRE_DOCKER=1 (tests/prepare.sh installs them)."""

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import missing as _missing

SCRIPT = Path(__file__).with_name("start-slurm.sh")
PROGRAMS = ("munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd", "sbatch", "sacctmgr")


@dataclass(frozen=True)
class SlurmCluster:
    conf: str
    directory: Path
    node: str

    @property
    def env(self):
        return {"SLURM_CONF": self.conf}

    def run(self, *command, user=None, check=True):
        full = (["runuser", "-u", user, "--"] if user else []) + list(command)
        result = subprocess.run(full, capture_output=True, text=True, env={**os.environ, **self.env}, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)}: {result.stdout}{result.stderr}")
        return result


@pytest.fixture(scope="session")
def slurm_cluster():
    if os.getuid() != 0:
        pytest.skip("starting Slurm's daemons needs root")
    absent = [program for program in PROGRAMS
              if shutil.which(program) is None and not Path("/usr/sbin", program).exists()]
    if absent:
        _missing(f"Slurm is not installed ({', '.join(absent)} missing; tests/prepare.sh installs it)")
    directory = Path(tempfile.mkdtemp(prefix="ds01-slurm-", dir="/tmp"))
    directory.chmod(0o755)
    result = subprocess.run(["bash", str(SCRIPT), "start", str(directory)], capture_output=True, text=True,
                            timeout=300)
    try:
        if result.returncode != 0:
            logs = "".join(f"\n--- {path.name}\n" + path.read_text(errors="replace")[-1500:]
                           for path in sorted((directory / "log").glob("*.log")))
            _missing(f"the test Slurm did not start: {result.stderr.strip()}{logs}")
        node = subprocess.run(["hostname", "-s"], capture_output=True, text=True).stdout.strip()
        yield SlurmCluster(conf=str(directory / "slurm.conf"), directory=directory, node=node)
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", str(directory)], capture_output=True, timeout=120)
        shutil.rmtree(directory, ignore_errors=True)
