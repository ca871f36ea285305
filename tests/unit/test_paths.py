"""Where config, state and logs live: the environment first, else checkout or installed defaults."""

from pathlib import Path

import pytest
from ds01common import paths

CHECKOUT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def no_overrides(monkeypatch):
    for name in ("DS01_CONFIG", "DS01_STATE_DIR", "DS01_LOG_DIR", "DS01_TEMPLATES_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def installed(monkeypatch, tmp_path, no_overrides):
    """The package as `make install` lays it out: $(PREFIX)/lib/ds01/ds01common, no config/ beside lib/."""
    package = tmp_path / "prefix" / "lib" / "ds01" / "ds01common"
    package.mkdir(parents=True)
    monkeypatch.setattr(paths, "PACKAGE_DIR", package)
    monkeypatch.setattr(paths, "_CANDIDATE_ROOT", package.parent.parent)
    return tmp_path / "prefix"


def test_running_from_the_checkout_finds_the_checkout(no_overrides):
    assert paths.checkout_root() == CHECKOUT
    assert paths.config_path() == CHECKOUT / "config" / "resource-limits.yaml"
    assert paths.state_dir() == CHECKOUT / "state"
    assert paths.log_dir() == CHECKOUT / "state" / "log"
    assert paths.templates_dir() == CHECKOUT / "config" / "templates"
    assert paths.bin_dir() == CHECKOUT / "bin"


def test_the_environment_overrides_every_default(monkeypatch, tmp_path):
    monkeypatch.setenv("DS01_CONFIG", str(tmp_path / "c.yaml"))
    monkeypatch.setenv("DS01_STATE_DIR", str(tmp_path / "s"))
    monkeypatch.setenv("DS01_LOG_DIR", str(tmp_path / "l"))
    monkeypatch.setenv("DS01_TEMPLATES_DIR", str(tmp_path / "t"))
    assert (paths.config_path(), paths.state_dir(), paths.log_dir(), paths.templates_dir()) == \
        (tmp_path / "c.yaml", tmp_path / "s", tmp_path / "l", tmp_path / "t")


def test_an_installed_copy_uses_the_system_locations(installed):
    assert paths.checkout_root() is None
    assert paths.config_path() == Path("/etc/ds01/resource-limits.yaml")
    assert paths.state_dir() == Path("/var/lib/ds01")
    assert paths.log_dir() == Path("/var/log/ds01")
    assert paths.templates_dir() == Path("/etc/ds01/templates")
    assert paths.bin_dir() == installed / "bin"


def test_installed_templates_sit_beside_an_overridden_config(installed, monkeypatch, tmp_path):
    monkeypatch.setenv("DS01_CONFIG", str(tmp_path / "etc" / "resource-limits.yaml"))
    assert paths.templates_dir() == tmp_path / "etc" / "templates"


def test_an_installed_copy_takes_the_templates_dir_from_roots_environment_only(installed, monkeypatch, tmp_path):
    class Baked:
        LAYOUT = {"config": "/etc/ds01/resource-limits.yaml", "state_dir": "/var/lib/ds01", "log_dir": "/var/log/ds01",
                  "templates_dir": "/etc/ds01/templates", "bin_dir": str(installed / "bin")}

    monkeypatch.setattr(paths, "_install", Baked)
    monkeypatch.setenv("DS01_TEMPLATES_DIR", str(tmp_path / "mine"))
    monkeypatch.setattr(paths.os, "getuid", lambda: 1000)
    assert paths.templates_dir() == Path("/etc/ds01/templates")
    monkeypatch.setattr(paths.os, "getuid", lambda: 0)
    assert paths.templates_dir() == tmp_path / "mine"
