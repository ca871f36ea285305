"""The building blocks: opens that follow no link at any component, acting as a user, mount
checks, the image rule, paths baked in by the install, and the locked-mode door."""

import os
import pwd

import pytest
from ds01common import access, identity, paths, security
from ds01common.errors import NotFound, PermissionDenied

NOBODY = pwd.getpwnam("nobody")


def nobody(home):
    return identity.User("nobody", "nobody", NOBODY.pw_uid, NOBODY.pw_gid, str(home))


def test_a_link_at_any_component_is_refused_not_followed(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "file").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "filelink").symlink_to(tmp_path / "real" / "file")
    assert security.read_bytes_nofollow(tmp_path / "real" / "file") == b"x"
    for path in (tmp_path / "link" / "file", tmp_path / "real" / "filelink"):
        with pytest.raises(security.LinkRefused):
            security.read_bytes_nofollow(path)


def test_a_planted_link_or_directory_in_a_ds01_dir_is_moved_aside_not_opened(tmp_path):
    target = tmp_path / "target"
    target.write_text("keep")
    target.chmod(0o600)
    (tmp_path / "events.jsonl").symlink_to(target)
    fd = security.open_regular(tmp_path / "events.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o660)
    os.write(fd, b"line\n")
    os.close(fd)
    assert target.read_text() == "keep" and oct(target.stat().st_mode & 0o777) == "0o600"
    assert (tmp_path / "events.jsonl").read_text() == "line\n"
    assert [entry.name for entry in tmp_path.iterdir() if entry.name.startswith("events.jsonl.bad-")]


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to another uid needs root")
def test_acting_as_a_user_reads_only_what_they_may(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("root only")
    secret.chmod(0o600)
    tmp_path.chmod(0o755)
    with pytest.raises(PermissionDenied):
        security.read_as_user(nobody(tmp_path), secret)
    assert security.as_user(nobody(tmp_path), os.getuid) == NOBODY.pw_uid
    with pytest.raises(NotFound):
        security.read_as_user(identity.current_user(), tmp_path / "missing")


class Config:
    def __init__(self, root):
        self.root = root

    def workspace_dir(self, home):
        return self.root if self.root else os.path.join(home, "workspace")


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_a_mount_source_must_be_a_real_directory_the_user_owns_under_their_home_or_root(tmp_path):
    home = tmp_path / "home"
    (home / "workspace" / "mine").mkdir(parents=True)
    (home / "workspace" / "roots").mkdir()
    for path in (home, home / "workspace", home / "workspace" / "mine"):
        os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    (home / "workspace" / "escape").symlink_to("/etc")
    user, config = nobody(home), Config(None)
    assert security.mount_source(config, user, home / "workspace" / "mine") == home / "workspace" / "mine"
    for path, why in [("/etc", "not under"), (home / "workspace" / "roots", "not owned"),
                      (home / "workspace" / "escape", "symlink")]:
        with pytest.raises(PermissionDenied, match=why):
            security.mount_source(config, user, path)


def test_images_allowed_are_own_configured_or_matching_a_pattern():
    user = identity.User("ann", "ann", 1000, 1000, "/home/ann")
    configured, patterns = ["lab/base:1", "busybox"], ["lab/tools-*:*", "pytorch/pytorch:2.*"]
    for reference in ("ds01-ann/thesis:latest", "lab/base:1", "busybox:latest", "busybox",
                      "lab/tools-a:3", "pytorch/pytorch:2.3"):
        assert security.image_allowed(reference, user, configured, patterns), reference
    for reference in ("ds01-bob/thesis:latest", "lab/base:2", "ubuntu:22.04", "pytorch/pytorch:1.13",
                      "sha256:" + "0" * 64, "busybox@sha256:" + "0" * 64, "ds01-annex/x:1"):
        assert not security.image_allowed(reference, user, configured, patterns), reference
    with pytest.raises(PermissionDenied, match="bob's private image"):
        security.require_image_allowed("sha256:abc", user, configured, patterns, tags=("ds01-bob/x:1",),
                                       owner="bob")


def test_an_installed_copy_takes_its_paths_from_the_install_and_a_users_environment_moves_nothing(monkeypatch):
    class Install:
        LAYOUT = {"config": "/etc/x/limits.yaml", "state_dir": "/var/lib/x", "log_dir": "/var/log/x",
                  "templates_dir": "/etc/x/templates", "bin_dir": "/opt/x/bin"}

    monkeypatch.setattr(paths, "_install", Install)
    monkeypatch.setenv("DS01_CONFIG", "/home/mallory/my.yaml")
    monkeypatch.setenv("DS01_STATE_DIR", "/home/mallory/state")
    monkeypatch.setenv("DS01_RESERVATION_TIMEOUT", "0")
    monkeypatch.setattr(paths.os, "getuid", lambda: 1000)
    assert (str(paths.config_path()), str(paths.state_dir()), str(paths.log_dir())) == (
        "/etc/x/limits.yaml", "/var/lib/x", "/var/log/x")
    assert paths.trusted_environ("DS01_RESERVATION_TIMEOUT") is None and paths.checkout_root() is None
    monkeypatch.setattr(paths.os, "getuid", lambda: 0)
    assert str(paths.state_dir()) == "/home/mallory/state"  # root may move them (cron, tests)


def test_the_door_scrubs_the_environment_handed_to_sudo():
    hostile = {"PATH": "/tmp/evil", "PYTHONPATH": "/tmp/evil", "LD_PRELOAD": "/tmp/evil.so", "DS01_CONFIG": "x",
               "TERM": "xterm", "LANG": "C.UTF-8", "DOCKER_HOST": "tcp://evil", "PYTHONHOME": "/tmp"}
    assert access.scrubbed_environment(hostile) == {"PATH": access.SAFE_PATH, "TERM": "xterm", "LANG": "C.UTF-8"}


def test_as_root_under_sudo_in_locked_mode_the_sudo_user_acts(monkeypatch, tmp_path):
    config = tmp_path / "limits.yaml"
    config.write_text("access: ds01-only\n")
    monkeypatch.setattr(paths, "installed_layout", lambda: {"config": str(config)})
    monkeypatch.setattr(paths, "config_path", lambda: config)
    monkeypatch.setattr(paths, "state_dir", lambda: tmp_path / "state")
    monkeypatch.setattr(paths, "log_dir", lambda: tmp_path / "log")
    monkeypatch.setattr(access.os, "getuid", lambda: 0)
    monkeypatch.setattr(identity, "_sudo_caller_uid", None)
    access.enter("container-list", [], {"SUDO_UID": str(NOBODY.pw_uid)})
    assert identity.current_user().uid == NOBODY.pw_uid
    monkeypatch.setattr(identity, "_sudo_caller_uid", None)
    config.write_text("access: docker-group\n")
    access.enter("container-list", [], {"SUDO_UID": str(NOBODY.pw_uid)})
    assert identity.current_user().uid == os.getuid()  # docker-group mode: root is root


def test_a_mount_swapped_while_the_container_started_is_caught_and_the_container_stopped(tmp_path):
    from dataclasses import replace

    from ds01common import containers, dockerapi
    from fakes.engine import FakeEngine

    engine = FakeEngine()
    made = engine.containers.create(image="ds01-test/busybox:latest", name="demo._.1000")
    engine.api.start(made.id)
    # The process looked into is this test's own: /proc/<pid>/root then resolves like the host.
    started = replace(dockerapi.get_container(engine, made.id), pid=os.getpid())
    checked = tmp_path / "checked"
    checked.mkdir()
    info = os.stat(checked)
    containers._refuse_mounts_swapped_during_start(engine, started, "demo", {str(checked): (info.st_dev, info.st_ino)})
    assert dockerapi.get_container(engine, made.id).running
    other = os.stat(tmp_path)
    with pytest.raises(PermissionDenied, match="swapped"):
        containers._refuse_mounts_swapped_during_start(engine, started, "demo",
                                                       {str(checked): (other.st_dev, other.st_ino)})
    assert not dockerapi.get_container(engine, made.id).running
