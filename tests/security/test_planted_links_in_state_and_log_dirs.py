"""Attack: in the group-writable log/state dirs a user replaced events.jsonl, a *.lock and
cron's cleanup.log by symlinks; root then appended to / chmodded the target (any file), after
which every command failed."""

import os

from attack_site import IMAGE, as_user, containers_of, ds01, fingerprint, remove_containers_of


def plant(site, where, name):
    """mallory replaces <where>/<name> by a link to the root-only secret."""
    path = site[where] / name
    result = as_user(site, "mallory", f"rm -f '{path}'; ln -s '{site['secret']}' '{path}'")
    assert result.returncode == 0, result.stderr
    assert os.path.islink(path)
    return path


def test_root_never_appends_to_or_chmods_through_a_planted_event_log_or_lock(site):
    before = fingerprint(site["secret"])
    events = plant(site, "log", "events.jsonl")
    lock = plant(site, "state", "gpu-state.json.lock")
    try:
        made = ds01(site, "root", "container-create", "forvictor", "--cpu-only", "--image", IMAGE,
                    "--user", site["victor"].pw_name)
        assert made.returncode == 0, made.stderr
        assert fingerprint(site["secret"]) == before
        assert not os.path.islink(events) and os.path.isfile(events)
        assert not os.path.islink(lock) and os.path.isfile(lock)
        assert "forvictor" in events.read_text()
        # ...and DS01 keeps working for everyone afterwards.
        again = ds01(site, "victor", "container-create", "next", "--cpu-only", "--image", IMAGE)
        assert again.returncode == 0, again.stderr
        assert len(containers_of(site, "victor")) == 2
    finally:
        remove_containers_of(site, "victor")


def test_crons_cleanup_log_is_appended_without_following_a_planted_link(site, tmp_path):
    before = fingerprint(site["secret"])
    log = plant(site, "log", "cleanup.log")
    result = ds01(site, "root", "cleanup-idle-containers", "--workspace-under", tmp_path, "--log", log)
    assert result.returncode == 0
    assert fingerprint(site["secret"]) == before
    assert not os.path.islink(log) and "checked 0 DS01 container(s)" in log.read_text()


def test_the_installed_cron_line_appends_through_ds01_not_a_shell_redirect(installed):
    (job,) = [line for line in (installed["CRONDIR"] / "ds01").read_text().splitlines() if line.startswith("*/5 ")]
    assert ">>" not in job and f"--log {installed['LOGDIR']}/cleanup.log" in job
