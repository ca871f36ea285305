"""Lifecycle decisions: idle, max runtime, GPU hold, never started, exemptions (no Docker)."""

import datetime

import pytest
import yaml
from ds01common import config as config_module
from ds01common import identity, lifecycle
from ds01common.activity import Observation

NOW = 1_800_000_000.0
HOUR = 3600


def make_config(tmp_path, lifecycle_section=None, defaults=None):
    document = {"default_group": "student", "groups": {"student": {"members": []}},
                "defaults": dict({"idle_timeout": "1h", "max_runtime": "10h", "gpu_hold_after_stop": "1h"},
                                 **(defaults or {})),
                "lifecycle": lifecycle_section or {}}
    path = tmp_path / "limits.yaml"
    path.write_text(yaml.safe_dump(document))
    return config_module.load(path)


def observation(name="proj", user="alice", status="running", started=NOW - 2 * HOUR, cpu=0.0, **extra):
    values = dict(id=f"id-{name}", docker_name=f"{name}._.1001", name=name, user=user, uid=1001, status=status,
                  workspace=f"/home/{user}/workspace/{name}", gpu_slots=[], created=NOW - 3 * HOUR,
                  started=started, cpu_percent=cpu if status == "running" else None)
    values.update(extra)
    return Observation(**values)


def owners(obs):
    return identity.User(obs.user, obs.user, 1001, 1001, f"/home/{obs.user}")


def decide(config, observations, state=None, now=NOW):
    return lifecycle.plan(observations, state or {"containers": {}}, config, now, owners,
                          lambda user: config.limits_for(user.login))


def kinds(actions):
    return [(action.kind, action.reason) for action in actions]


def test_a_container_idle_past_its_timeout_is_retired_with_the_numbers(tmp_path):
    config = make_config(tmp_path)
    actions, state = decide(config, [observation(cpu=0.5)])
    assert kinds(actions) == [("retire", "idle")]
    details = actions[0].details
    assert details["idle_seconds"] == 2 * HOUR and details["threshold_seconds"] == HOUR
    assert details["cpu_percent"] == 0.5


def test_a_busy_container_is_kept_and_its_activity_recorded(tmp_path):
    config = make_config(tmp_path)
    actions, state = decide(config, [observation(cpu=40.0)])
    assert actions == []
    assert state["containers"]["id-proj"]["last_active"] == NOW


def test_idle_time_counts_from_the_start_not_from_older_activity(tmp_path):
    config = make_config(tmp_path)
    old_state = {"containers": {"id-proj": {"started": NOW - 9 * HOUR, "last_active": NOW - 8 * HOUR}}}
    actions, state = decide(config, [observation(started=NOW - 600)], old_state)
    assert actions == []
    assert state["containers"]["id-proj"]["idle_seconds"] == 600


def test_the_owner_is_warned_once_at_80_percent_and_again_after_new_activity(tmp_path):
    config = make_config(tmp_path)
    state = {"containers": {"id-proj": {"started": NOW - 2 * HOUR, "last_active": NOW - 49 * 60}}}
    actions, state = decide(config, [observation()], state)
    assert kinds(actions) == [("warn", "idle")]
    assert "touch /home/alice/workspace/proj/.keep-alive" in actions[0].message
    actions, state = decide(config, [observation()], state, now=NOW + 300)
    assert actions == []
    _, state = decide(config, [observation(cpu=90.0)], state, now=NOW + 400)
    actions, _ = decide(config, [observation()], state, now=NOW + 400 + 50 * 60)
    assert kinds(actions) == [("warn", "idle")]


def test_a_fresh_keep_alive_keeps_an_idle_container(tmp_path):
    config = make_config(tmp_path)
    actions, _ = decide(config, [observation(keep_alive=NOW - 60)])
    assert actions == []


def test_a_keep_alive_older_than_the_timeout_does_not(tmp_path):
    config = make_config(tmp_path)
    actions, _ = decide(config, [observation(keep_alive=NOW - HOUR - 5)])
    assert kinds(actions) == [("retire", "idle")]


def test_gpu_memory_above_the_threshold_counts_as_activity(tmp_path):
    config = make_config(tmp_path, {"gpu_idle_memory": "256m"})
    busy, _ = decide(config, [observation(gpu_memory=300 << 20)])
    idle, _ = decide(config, [observation(gpu_memory=100 << 20)])
    assert busy == [] and kinds(idle) == [("retire", "idle")]


def test_whole_gpu_utilisation_above_the_threshold_counts_as_activity(tmp_path):
    config = make_config(tmp_path, {"gpu_idle_percent": 5})
    actions, _ = decide(config, [observation(gpu_utilization=30.0)])
    assert actions == []


def test_an_unmeasured_container_is_never_retired_for_idleness(tmp_path):
    config = make_config(tmp_path)
    actions, state = decide(config, [observation(cpu=None)])
    assert actions == [] and state["containers"]["id-proj"]["idle_seconds"] is None


def test_no_idle_timeout_means_never_idle_retired(tmp_path):
    config = make_config(tmp_path, defaults={"idle_timeout": None})
    actions, _ = decide(config, [observation(started=NOW - 5 * HOUR)])
    assert actions == []


def test_max_runtime_warns_at_75_and_90_percent_once_each_then_retires(tmp_path):
    config = make_config(tmp_path, defaults={"idle_timeout": None})
    state = None
    seen = []
    for hours in (7, 7.6, 7.7, 9.1, 9.5, 10.0):
        actions, state = decide(config, [observation(started=NOW)], state, now=NOW + hours * HOUR)
        seen.append([(action.kind, action.details.get("fraction")) for action in actions])
    assert seen == [[], [("warn", 0.75)], [], [("warn", 0.9)], [], [("retire", None)]]


def test_a_late_first_look_sends_one_runtime_warning_for_both_fractions(tmp_path):
    config = make_config(tmp_path, defaults={"idle_timeout": None})
    actions, state = decide(config, [observation(started=NOW - 9.5 * HOUR)])
    assert [action.details["fraction"] for action in actions] == [0.9]
    assert state["containers"]["id-proj"]["runtime_warned"] == [0.75, 0.9]


def test_a_restart_resets_runtime_warnings(tmp_path):
    config = make_config(tmp_path, defaults={"idle_timeout": None})
    _, state = decide(config, [observation(started=NOW - 8 * HOUR)])
    actions, _ = decide(config, [observation(started=NOW + 1)], state, now=NOW + 1 + 8 * HOUR)
    assert kinds(actions) == [("warn", "max_runtime")]


def test_a_stopped_container_holding_a_gpu_is_retired_after_the_hold(tmp_path):
    config = make_config(tmp_path)
    held = observation(status="exited", gpu_slots=["1:0"], finished=NOW - HOUR - 1)
    recent = observation(name="recent", status="exited", gpu_slots=["0"], finished=NOW - 600)
    cpu_only = observation(name="cpu", status="exited", finished=NOW - 9 * HOUR)
    actions, _ = decide(config, [held, recent, cpu_only])
    assert [(action.observation.name, action.reason) for action in actions] == [("proj", "gpu_hold")]
    assert actions[0].details["gpu_slots"] == ["1:0"] and actions[0].details["threshold_seconds"] == HOUR


def test_no_gpu_hold_limit_means_the_slot_is_kept(tmp_path):
    config = make_config(tmp_path, defaults={"gpu_hold_after_stop": None})
    actions, _ = decide(config, [observation(status="exited", gpu_slots=["0"], finished=NOW - 99 * HOUR)])
    assert actions == []


def test_a_container_never_started_is_removed_after_the_timeout(tmp_path):
    config = make_config(tmp_path, {"never_started_timeout": "30m"})
    old = observation(status="created", started=None, created=NOW - 31 * 60)
    young = observation(name="young", status="created", started=None, created=NOW - 60)
    actions, _ = decide(config, [old, young])
    assert [(action.observation.name, action.reason) for action in actions] == [("proj", "never_started")]


def exempt_config(tmp_path, what="idle", until="2099-12-31", user="alice"):
    return make_config(tmp_path, {"exemptions": [{"user": user, "what": what, "until": until,
                                                  "reason": "long evaluation"}]})


def test_an_exempt_user_is_kept_and_told_once(tmp_path):
    config = exempt_config(tmp_path)
    actions, state = decide(config, [observation()])
    assert kinds(actions) == [("exempt", "idle")]
    assert "long evaluation" in actions[0].message and "2099-12-31" in actions[0].message
    actions, _ = decide(config, [observation()], state, now=NOW + 300)
    assert actions == []


def test_an_expired_exemption_no_longer_protects(tmp_path):
    config = exempt_config(tmp_path, until="2020-01-01")
    actions, _ = decide(config, [observation()])
    assert kinds(actions) == [("retire", "idle")]


def test_an_exemption_lasts_through_its_last_day(tmp_path):
    day = datetime.datetime.fromtimestamp(NOW, datetime.UTC).date().isoformat()
    config = exempt_config(tmp_path, until=day)
    actions, _ = decide(config, [observation()])
    assert kinds(actions) == [("exempt", "idle")]


def test_an_exemption_covers_only_what_it_names(tmp_path):
    config = exempt_config(tmp_path, what="max_runtime")
    actions, _ = decide(config, [observation()])
    assert kinds(actions) == [("retire", "idle")]


def test_an_exemption_for_all_covers_every_reason(tmp_path):
    config = exempt_config(tmp_path, what="all")
    actions, _ = decide(config, [observation(started=NOW - 11 * HOUR)])
    assert sorted(kinds(actions)) == [("exempt", "idle"), ("exempt", "max_runtime")]


def test_another_users_exemption_does_not_apply(tmp_path):
    config = exempt_config(tmp_path, user="bob")
    actions, _ = decide(config, [observation()])
    assert kinds(actions) == [("retire", "idle")]


def test_one_retirement_at_most_and_it_replaces_warnings(tmp_path):
    config = make_config(tmp_path)
    actions, _ = decide(config, [observation(started=NOW - 10.5 * HOUR)])
    assert kinds(actions) == [("retire", "max_runtime")]


def test_state_of_vanished_containers_is_dropped(tmp_path):
    config = make_config(tmp_path)
    _, state = decide(config, [observation(cpu=50.0)], {"containers": {"gone": {"last_active": 1}}})
    assert list(state["containers"]) == ["id-proj"]


@pytest.mark.parametrize("until", ["2099-01-01", datetime.date(2099, 1, 1), datetime.datetime(2099, 1, 1, 12)])
def test_exemption_dates_come_as_strings_dates_or_datetimes(until):
    assert lifecycle._until_epoch(until) > NOW


def test_an_owner_whose_account_is_gone_is_rebuilt_from_the_labels():
    def missing(name):
        from ds01common.errors import NotFound
        raise NotFound(name)

    owner = lifecycle.owner_of(observation(user="ghost"), lookup=missing)
    assert (owner.login, owner.name, owner.uid) == ("ghost", "ghost", 1001)


def test_terminals_come_from_who_and_alerts_go_to_the_workspace(tmp_path):
    class Result:
        stdout = "alice    pts/1   2026-11-22 10:00\nbob  pts/2  x\nalice pts/3 y\nalice pts/1 z\n"

    calls = []

    def run(command, **options):
        calls.append((command, options.get("input")))
        return Result()

    workspace = tmp_path / "proj"
    workspace.mkdir()
    owner = identity.User("alice", "alice", 1001, 1001, "/home/alice")
    lifecycle.notify_owner(owner, observation(workspace=str(workspace)), "proj is idle", run=run)
    assert [command for command, _ in calls] == [["who"], ["write", "alice", "pts/1"], ["write", "alice", "pts/3"]]
    assert calls[1][1] == "DS01: proj is idle\n"
    (line,) = (workspace / ".ds01-alerts").read_text().splitlines()
    assert line.endswith("DS01: proj is idle") and line.startswith("20")
