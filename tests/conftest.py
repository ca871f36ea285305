"""Shared fixtures: the library on sys.path, throwaway DS01 environments, the real Docker
engine (a failure instead of a skip under DS01_REQUIRE_DOCKER=1), real Linux users and an
installed copy of DS01 that those users can run."""

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lib"))
sys.path.insert(0, str(ROOT / "tests"))

BIN = ROOT / "bin"
from helpers import REQUIRE_DOCKER, TEST_IMAGE, run_command, write_config  # noqa: E402, F401
from helpers import missing as _missing  # noqa: E402


@pytest.fixture
def ds01_env(tmp_path, monkeypatch):
    """A throwaway DS01: own config, state and log dirs, workspaces under tmp. Returns a dict
    with the paths; tests may rewrite the config with helpers.write_config(env, {...})."""
    env = {
        "root": tmp_path,
        "config": tmp_path / "resource-limits.yaml",
        "state": tmp_path / "state",
        "log": tmp_path / "log",
        "workspace_root": tmp_path / "workspaces",
    }
    env["state"].mkdir()
    env["log"].mkdir()
    write_config(env, {})
    monkeypatch.setenv("DS01_CONFIG", str(env["config"]))
    monkeypatch.setenv("DS01_STATE_DIR", str(env["state"]))
    monkeypatch.setenv("DS01_LOG_DIR", str(env["log"]))
    monkeypatch.setenv("DS01_LOCK_TIMEOUT", "60")
    return env


@pytest.fixture(scope="session")
def docker_client():
    """A client for the real engine; the test base image exists."""
    try:
        import docker
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as error:  # noqa: BLE001 - any failure means no engine
        _missing(f"no Docker engine: {error}")
    try:
        client.images.get(TEST_IMAGE)
    except Exception:  # noqa: BLE001
        result = subprocess.run(["bash", str(ROOT / "tests" / "build-test-image.sh")], capture_output=True, text=True)
        if result.returncode != 0:
            _missing(f"cannot build {TEST_IMAGE}: {result.stderr.strip()}")
    return client


def _remove_containers_under(client, prefix):
    # ignore_removed: other tests remove containers concurrently; one vanishing must not abort cleanup.
    for container in client.containers.list(all=True, filters={"label": "ds01.managed=true"}, ignore_removed=True):
        if container.labels.get("ds01.workspace", "").startswith(str(prefix)):
            try:
                container.remove(force=True)
            except Exception:  # noqa: BLE001 - already gone
                pass


@pytest.fixture
def docker_env(ds01_env, docker_client):
    """ds01_env plus the real engine; removes the DS01 containers this test made."""
    ds01_env["docker"] = docker_client
    yield ds01_env
    _remove_containers_under(docker_client, ds01_env["root"])


# --- real Linux users and an installed copy, for multi-user tests ---

@pytest.fixture(scope="session")
def shared_root():
    """A world-readable temp dir (pytest's own tmp dirs are 0700, closed to other users)."""
    path = Path(tempfile.mkdtemp(prefix="ds01-it-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def installed(shared_root):
    """`make install` into a world-readable prefix, as on a real server; returns its paths."""
    if os.getuid() != 0:
        pytest.skip("installing and creating users needs root")
    prefix = shared_root / "prefix"
    layout = {"PREFIX": prefix, "CONFDIR": shared_root / "etc", "STATEDIR": shared_root / "var-lib",
              "LOGDIR": shared_root / "var-log", "CRONDIR": shared_root / "cron.d",
              "LOGROTATEDIR": shared_root / "logrotate.d", "SYSTEMDDIR": shared_root / "systemd",
              "PROFILEDIR": shared_root / "profile.d",
              # never the real /etc/sudoers.d: locked-mode tests put their drop-in in place themselves
              "SUDOERSDIR": shared_root / "sudoers.d"}
    result = subprocess.run(["make", "-s", "install"] + [f"{key}={value}" for key, value in layout.items()],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    layout["bin"] = prefix / "bin"
    return layout


@pytest.fixture(scope="session")
def linux_users(shared_root):
    """Factory: make_user('alice') creates a real user ds01t-alice in the docker group."""
    if os.getuid() != 0:
        pytest.skip("creating users needs root")
    created = []
    homes = shared_root / "home"
    homes.mkdir(exist_ok=True)
    homes.chmod(0o755)

    def make_user(short, groups=("docker",)):
        login = f"ds01t-{short}"
        subprocess.run(["userdel", "-r", login], capture_output=True)
        for group in groups:
            subprocess.run(["groupadd", "-f", group], check=True)
        subprocess.run(["useradd", "-m", "-d", str(homes / login), "-s", "/bin/sh",
                        "-G", ",".join(groups), login], check=True, capture_output=True)
        created.append(login)
        import pwd
        return pwd.getpwnam(login)

    yield make_user
    for login in created:
        subprocess.run(["pkill", "-u", login], capture_output=True)
        subprocess.run(["userdel", "-r", login], capture_output=True)


@pytest.fixture
def unique():
    """A short unique token for names (containers, projects)."""
    return uuid.uuid4().hex[:8]


__all__ = ["run_command", "BIN", "ROOT", "TEST_IMAGE"]
