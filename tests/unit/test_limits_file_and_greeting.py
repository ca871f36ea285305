"""~/.ds01-limits is always true, and the login greeting reads it back (no engine)."""

import os

import yaml
from ds01common import config as config_module
from ds01common import greeting, limits, limits_refresh
from ds01common.identity import User

NOW = 1_800_000_000.0
HOUR = 3600


def test_a_limits_file_older_than_the_config_is_stale_and_a_newer_one_fresh(tmp_path):
    config, target = tmp_path / "limits.yaml", tmp_path / ".ds01-limits"
    config.write_text("{}\n")
    assert not limits_refresh.is_fresh(str(target), [str(config)])  # missing
    target.write_text("x\n")
    os.utime(target, ns=(config.stat().st_ctime_ns + 10**9,) * 2)
    assert limits_refresh.is_fresh(str(target), [str(config), str(tmp_path / "no-such-file")])
    os.utime(target, ns=(config.stat().st_ctime_ns - 10**9,) * 2)
    assert not limits_refresh.is_fresh(str(target), [str(config)])


def test_a_config_copied_with_an_old_mtime_still_counts_as_an_edit(tmp_path):
    config, target = tmp_path / "limits.yaml", tmp_path / ".ds01-limits"
    target.write_text("x\n")
    config.write_text("{}\n")
    os.utime(config, (1, 1))  # `cp -p` of an old file: its ctime is still now
    assert not limits_refresh.is_fresh(str(target), [str(config)])


def test_the_shipped_limits_read_as_the_docs_write_them():
    config = config_module.load(os.path.join(os.path.dirname(__file__), "..", "..", "config",
                                             "resource-limits.yaml"))
    values = limits.parse_text(limits.as_text("ncstudent1", config.limits_for("ncstudent1")))
    assert values["Max Containers"] == "3" and values["GPU slots"] == "1"
    assert values["Idle timeout"] == "48h" and values["Max runtime"] == "unlimited"


def test_the_greeting_reads_durations_as_the_limits_file_writes_them():
    assert greeting.seconds("48h") == 48 * HOUR and greeting.seconds("1h30m") == 90 * 60
    assert greeting.seconds("7d") == 7 * 24 * HOUR
    assert greeting.seconds("unlimited") is None and greeting.seconds("never") is None


def container(name, state="running", slots="1:0", created=NOW - HOUR, uid=1001):
    return {"Id": f"id-{name}", "Names": [f"/{name}._.{uid}"], "State": state, "Status": "Up 1 hour",
            "Created": created, "Labels": {"ds01.gpu.slots": slots, "ds01.workspace": f"/home/a/workspace/{name}"}}


def test_the_greeting_lists_containers_and_warns_about_idle_and_runtime():
    limits_text = {"Group": "student", "GPU slots": "1", "Max Containers": "3", "Idle timeout": "10h",
                   "Max runtime": "24h"}
    entries = {"id-idle": {"idle_seconds": 7 * HOUR, "measured_at": NOW - HOUR},
               "id-long": {"idle_seconds": 0, "measured_at": NOW, "started": NOW - 20 * HOUR}}
    text = greeting.render("alice", limits_text, [container("idle"), container("long", slots=""),
                                                  container("done", state="exited")], entries, NOW)
    assert text.splitlines()[0].startswith("DS01 · alice (group student): GPU slots 1 · Max Containers 3")
    assert "your containers (3 of 3):" in text
    assert any(line.split()[:4] == ["long", "running", "CPU", "only"] for line in text.splitlines())
    assert "! idle has been idle 8h; it is retired after 10h idle" in text
    assert "touch /home/a/workspace/idle/.keep-alive" in text
    assert "! long has run 20h of its 24h limit; it is retired in 4h" in text
    assert "done" in text and text.count("!") == 2


def test_the_greeting_without_engine_access_points_to_container_list():
    text = greeting.render("bob", {"Group": "g"}, None, {}, NOW)
    assert "container-list" in text


def test_the_greeting_is_silent_without_a_limits_file(tmp_path):
    assert greeting.greeting_for(os.getuid(), {"HOME": str(tmp_path)}, NOW) == ""


def test_the_greeting_reads_home_and_the_engine_from_the_environment_it_is_given(tmp_path):
    (tmp_path / ".ds01-limits").write_text("Group: students\nGPU slots: 1\n")
    # DOCKER_HOST over TCP: the greeting has no unix socket to ask, so it points to container-list.
    text = greeting.greeting_for(os.getuid(), {"HOME": str(tmp_path), "DOCKER_HOST": "tcp://127.0.0.1:1"}, NOW)
    assert "(group students): GPU slots 1" in text and "your containers: `container-list`" in text
    assert greeting.engine_socket({}) == "/var/run/docker.sock"
    assert greeting.engine_socket({"DOCKER_HOST": "unix:///run/user/7/docker.sock"}) == "/run/user/7/docker.sock"


def test_write_limits_file_gives_the_file_to_its_user(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    path = tmp_path / "limits.yaml"
    path.write_text(yaml.safe_dump({"defaults": {"max_containers_per_user": 5}}))
    user = User("alice", "alice", os.getuid(), os.getgid(), str(home))
    written = limits.write_limits_file(user, config_module.load(path).limits_for("alice"))
    assert "Max Containers: 5" in written.read_text().splitlines()
