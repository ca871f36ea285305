"""What `make install` sets up for monitoring: a logrotate rule logrotate accepts and that readers
survive, the exporter's systemd unit (installed, not enabled, unprivileged), the off-by-default
textfile cron line, the alert rules and dashboard; and `ds01-events --follow` seeing another
user's command within 2 s, before and after a real logrotate run."""

import grp
import json
import os
import queue
import subprocess
import threading
import time

import pytest
from ds01common import events
from ds01common.monitoring import eventlog
from helpers import need_tool

FOLLOW_WITHIN = 2.0


def logrotate():
    return need_tool("logrotate")


def log_dir_like_a_server(path):
    path.mkdir()
    os.chown(path, 0, grp.getgrnam("docker").gr_gid)
    path.chmod(0o2770)
    return path


def test_make_install_puts_a_logrotate_rule_that_logrotate_accepts(installed, tmp_path):
    rule = installed["LOGROTATEDIR"] / "ds01"
    text = rule.read_text()
    assert f"{installed['LOGDIR']}/events.jsonl" in text and f"{installed['LOGDIR']}/cleanup.log" in text
    assert "@" not in text.replace("# ", "")
    result = subprocess.run([logrotate(), "-d", "-s", str(tmp_path / "status"), str(rule)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in (result.stdout + result.stderr).lower()


def test_after_logrotate_runs_the_readers_still_see_every_event(installed, tmp_path):
    log_dir = log_dir_like_a_server(tmp_path / "log")
    rule = tmp_path / "ds01.logrotate"
    rule.write_text((installed["LOGROTATEDIR"] / "ds01").read_text().replace(str(installed["LOGDIR"]), str(log_dir)))
    live = eventlog.LiveTally(log_dir)
    events.record("lifecycle.retire", "i13rot", log_dir=log_dir, reason="idle", round=0)
    follower = eventlog.Follower(log_dir / "events.jsonl", from_start=True)
    followed = []
    for round_number in range(1, 4):  # three rotations: .1 plain, then .2.gz compressed (delaycompress)
        result = subprocess.run([logrotate(), "-f", "-s", str(tmp_path / "status"), str(rule)],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        events.record("lifecycle.retire", "i13rot", log_dir=log_dir, reason="idle", round=round_number)
        followed += follower.poll()
    assert sorted(path.name for path in log_dir.iterdir()) == [
        "events.jsonl", "events.jsonl.1", "events.jsonl.2.gz", "events.jsonl.3.gz"]
    assert [entry.details["round"] for entry in eventlog.read_all(log_dir)] == [0, 1, 2, 3]
    assert [entry.details["round"] for entry in followed] == [0, 1, 2, 3]
    assert live.update().lifecycle[("retired", "idle")] == 4
    assert eventlog.LiveTally(log_dir).update().lifecycle[("retired", "idle")] == 4


def test_the_exporter_unit_is_installed_not_enabled_and_unprivileged(installed):
    unit = (installed["SYSTEMDDIR"] / "ds01-exporter.service").read_text()
    lines = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.startswith("#"))
    assert lines["ExecStart"] == f"{installed['bin']}/ds01-exporter --listen 127.0.0.1:9401"
    assert lines["DynamicUser"] == "yes" and lines["SupplementaryGroups"] == "docker"
    assert "User" not in lines
    assert not list(installed["SYSTEMDDIR"].glob("*.wants"))  # installed, not enabled


def test_the_textfile_cron_line_is_off_and_works_once_switched_on(installed, tmp_path):
    lines = (installed["CRONDIR"] / "ds01").read_text().splitlines()
    (line,) = [line for line in lines if "ds01-exporter" in line and not line.startswith("# ")]
    assert line.startswith("#* * * * * root ")
    env = dict(line.split("=", 1) for line in lines if line[:1].isupper() and "=" in line)
    command = line[1:].split(None, 6)[6]
    target = tmp_path / "ds01.prom"
    command = command.replace(command.split("--textfile ", 1)[1], str(target))
    result = subprocess.run(["sh", "-c", command], env=dict(env, HOME="/root", LOGNAME="root"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "ds01_engine_up 1.0" in target.read_text()


def test_an_unprivileged_docker_group_user_can_run_the_installed_exporter(installed, linux_users, shared_root):
    user = linux_users("i13x")  # what the unit's DynamicUser gets: no root, the docker group
    out = shared_root / "i13x-textfile"
    out.mkdir()
    os.chown(out, user.pw_uid, user.pw_gid)
    result = subprocess.run(["runuser", "-u", user.pw_name, "--", str(installed["bin"] / "ds01-exporter"),
                             "--textfile", str(out / "ds01.prom")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    text = (out / "ds01.prom").read_text()
    assert "ds01_engine_up 1.0" in text and "ds01_gpu_queue_length" in text


def test_alert_rules_and_dashboard_are_installed_beside_the_config(installed):
    monitoring = installed["CONFDIR"] / "monitoring"
    assert {path.name for path in monitoring.iterdir()} >= {"ds01-alerts.yml", "ds01-grafana-dashboard.json"}
    assert json.loads((monitoring / "ds01-grafana-dashboard.json").read_text())["panels"]


def _reader(stream, lines):
    for line in stream:
        lines.put((time.monotonic(), line))


def _next_event_of(lines, user, give_up):
    while time.monotonic() < give_up:
        try:
            seen, line = lines.get(timeout=max(0.0, give_up - time.monotonic()))
        except queue.Empty:
            break
        entry = json.loads(line)
        if entry["user"] == user:
            return seen, entry
    pytest.fail(f"ds01-events --follow printed no event of {user}")


def test_follow_prints_another_users_event_within_two_seconds_and_after_a_rotation(installed, linux_users):
    user = linux_users("i13f")
    log_dir = installed["LOGDIR"]
    events.record("i13.marker", user.pw_name, log_dir=log_dir)
    follower = subprocess.Popen([str(installed["bin"] / "ds01-events"), "--follow", "--json", "--limit", "1",
                                 "--user", user.pw_name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = queue.Queue()
    threading.Thread(target=_reader, args=(follower.stdout, lines), daemon=True).start()
    try:
        # The backlog (the marker) is printed once the follower holds the log open.
        assert _next_event_of(lines, user.pw_name, time.monotonic() + 30)[1]["event"] == "i13.marker"

        def user_command(project):
            result = subprocess.run(["runuser", "-u", user.pw_name, "--", str(installed["bin"] / "project-init"),
                                     project, "--no-git", "--no-build"], capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
            return time.monotonic()

        written = user_command("i13follow")
        seen, entry = _next_event_of(lines, user.pw_name, written + FOLLOW_WITHIN)
        assert entry["event"] == "project.initialised" and seen - written <= FOLLOW_WITHIN

        state = installed["STATEDIR"] / "i13-logrotate.status"
        result = subprocess.run([logrotate(), "-f", "-s", str(state), str(installed["LOGROTATEDIR"] / "ds01")],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        assert (log_dir / "events.jsonl.1").exists()
        written = user_command("i13after")
        seen, entry = _next_event_of(lines, user.pw_name, written + FOLLOW_WITHIN)
        assert entry["details"]["project"] == "i13after" and seen - written <= FOLLOW_WITHIN
    finally:
        follower.terminate()
        follower.wait(timeout=10)
