"""The shipped defaults let a 3-day job finish, and a .keep-alive cannot keep a container for ever."""

import pytest
import yaml
from ds01common import config as config_module
from ds01common import identity, lifecycle
from ds01common.activity import Observation
from ds01common.errors import ConfigError
from helpers import ROOT

NOW = 1_800_000_000.0
HOUR = 3600


def shipped():
    return config_module.load(ROOT / "config" / "resource-limits.yaml")


def written(tmp_path, document):
    path = tmp_path / "limits.yaml"
    path.write_text(yaml.safe_dump(document))
    return config_module.load(path)


def running(cpu, started=NOW, keep_alive=None, user="ncstudent1"):
    return Observation(id="id-exp", docker_name="exp._.1001", name="exp", user=user, uid=1001, status="running",
                       workspace=f"/home/{user}/workspace/exp", gpu_slots=["0"], created=started - 60,
                       started=started, cpu_percent=cpu, keep_alive=keep_alive)


def owners(observation):
    return identity.User(observation.user, observation.user, 1001, 1001, f"/home/{observation.user}")


def passes(config, make_observation, until, every=HOUR / 2, start=NOW):
    """Run the cron pass every `every` seconds from `start` to `until` (simulated time); yields (now, actions)."""
    state = {"containers": {}}
    now = start
    while now <= until:
        actions, state = lifecycle.plan([make_observation(now)], state, config, now, owners,
                                        lambda user: config.limits_for(user.login))
        yield now, actions
        now += every


def test_shipped_defaults_are_48h_idle_and_no_runtime_limit_for_a_student():
    limits = shipped().limits_for("ncstudent1")
    assert limits.group == "student"
    assert (limits.idle_timeout, limits.max_runtime) == (48 * HOUR, None)
    assert shipped().lifecycle["keep_alive_max"] == 24 * HOUR


def test_built_in_defaults_match_the_shipped_file(tmp_path):
    limits = written(tmp_path, {}).limits_for("anyone")
    assert (limits.idle_timeout, limits.max_runtime) == (48 * HOUR, None)
    assert written(tmp_path, {}).lifecycle["keep_alive_max"] == 24 * HOUR


def test_a_busy_three_day_experiment_is_never_retired_with_the_shipped_config():
    config = shipped()
    for now, actions in passes(config, lambda now: running(cpu=95.0), until=NOW + 72 * HOUR):
        assert actions == [], (now - NOW) / HOUR
    assert now - NOW >= 72 * HOUR


def test_an_idle_container_is_retired_after_48_hours_with_the_shipped_config():
    config = shipped()
    retired = [now for now, actions in passes(config, lambda now: running(cpu=0.0), until=NOW + 50 * HOUR)
               if any(action.kind == "retire" for action in actions)]
    assert retired and retired[0] == NOW + 48 * HOUR


def test_a_group_may_still_set_a_shorter_runtime(tmp_path):
    config = written(tmp_path, {"default_group": "course",
                                "groups": {"course": {"members": [], "max_runtime": "24h"}}})
    retired = [(now, action.reason) for now, actions in
               passes(config, lambda now: running(cpu=95.0), until=NOW + 25 * HOUR) for action in actions
               if action.kind == "retire"]
    assert retired[0] == (NOW + 24 * HOUR, "max_runtime")


def test_a_future_dated_keep_alive_stops_counting_after_keep_alive_max(tmp_path):
    config = written(tmp_path, {"defaults": {"idle_timeout": "4h"}, "lifecycle": {"keep_alive_max": "3h"}})
    far_future = NOW + 3650 * 24 * HOUR
    results = list(passes(config, lambda now: running(cpu=0.0, started=NOW - 10 * HOUR, keep_alive=far_future),
                          until=NOW + 6 * HOUR))
    kept = [now for now, actions in results if not any(action.kind == "retire" for action in actions)]
    retired = [now for now, actions in results if any(action.kind == "retire" for action in actions)]
    # Counted from the first pass that saw it, for 3h; then the container's real idleness (10h+) shows.
    assert max(kept) < NOW + 3 * HOUR <= min(retired)


def test_a_keep_alive_older_than_keep_alive_max_does_not_count_even_under_a_longer_idle_timeout():
    config = shipped()  # idle 48h, keep_alive_max 24h
    observation = running(cpu=0.0, started=NOW - 49 * HOUR, keep_alive=NOW - 30 * HOUR)
    actions, _ = lifecycle.plan([observation], {"containers": {}}, config, NOW, owners,
                                lambda user: config.limits_for(user.login))
    assert [(action.kind, action.reason) for action in actions] == [("retire", "idle")]


def test_a_fresh_keep_alive_still_keeps_an_idle_container():
    config = shipped()
    observation = running(cpu=0.0, started=NOW - 49 * HOUR, keep_alive=NOW - 2 * HOUR)
    actions, state = lifecycle.plan([observation], {"containers": {}}, config, NOW, owners,
                                    lambda user: config.limits_for(user.login))
    assert actions == [] and state["containers"]["id-exp"]["idle_seconds"] == 2 * HOUR


def test_an_exemption_must_say_what_it_exempts_from(tmp_path):
    with pytest.raises(ConfigError) as caught:
        written(tmp_path, {"lifecycle": {"exemptions": [{"user": "carol", "reason": "eval"}]}})
    assert any("lifecycle.exemptions[0].what: missing" in problem for problem in caught.value.problems)


def test_keep_alive_max_must_be_a_duration_that_ends(tmp_path):
    with pytest.raises(ConfigError, match="lifecycle.keep_alive_max"):
        written(tmp_path, {"lifecycle": {"keep_alive_max": None}})


def test_lifecycle_durations_from_the_file_are_read_once_not_as_hours(tmp_path):
    config = written(tmp_path, {"lifecycle": {"never_started_timeout": "30m", "keep_alive_max": "2h"}})
    assert config.lifecycle["never_started_timeout"] == 1800
    assert config.lifecycle["keep_alive_max"] == 2 * HOUR
