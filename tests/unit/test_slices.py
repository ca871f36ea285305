"""systemd slices: names, caps from the limits, unit files, cgroup parents, --apply."""

import re
import shutil
import subprocess

import yaml
from ds01common import config as config_module
from ds01common import identity, slices
from ds01common.records import Limits
from helpers import run_command


def make_config(tmp_path, enabled=True):
    document = {"default_group": "student",
                "defaults": {"max_cpus": 4, "memory": "8g", "pids_limit": 100, "max_containers_per_user": 2},
                "groups": {"student": {"members": []},
                           "research-lab": {"members": ["carol"], "max_cpus": 8},
                           "admin": {"members": ["root"], "max_containers_per_user": None}},
                "slices": {"enabled": enabled}}
    (tmp_path / "limits.yaml").write_text(yaml.safe_dump(document))
    return config_module.load(tmp_path / "limits.yaml")


def test_dashes_in_names_are_escaped_so_they_do_not_mean_nesting():
    assert slices.user_slice("research-lab", "ds01t-alice") == "ds01-research\\x2dlab-ds01t\\x2dalice.slice"
    assert slices.group_slice("student") == "ds01-student.slice"


def test_user_caps_are_per_container_limits_times_containers():
    caps = slices.user_caps(Limits(max_cpus=4, memory=8 << 30, pids_limit=100, max_containers_per_user=2))
    assert caps == {"CPUQuota": 800, "MemoryMax": 16 << 30, "TasksMax": 200}


def test_unlimited_containers_means_no_caps():
    assert slices.user_caps(Limits(max_cpus=4, memory=1, pids_limit=1, max_containers_per_user=None)) == {}


def test_units_cover_the_root_each_group_and_each_user_with_group_sums(tmp_path):
    units = slices.units(make_config(tmp_path), logins=["alice", "bob", "carol", "root"])
    assert set(units) == {"ds01.slice", "ds01-student.slice", "ds01-student-alice.slice", "ds01-student-bob.slice",
                          "ds01-research\\x2dlab.slice", "ds01-research\\x2dlab-carol.slice", "ds01-admin.slice",
                          "ds01-admin-root.slice"}
    assert "CPUQuota=800%" in units["ds01-student-alice.slice"]
    assert f"MemoryMax={16 << 30}" in units["ds01-student-alice.slice"]
    assert "TasksMax=200" in units["ds01-student-alice.slice"]
    assert "CPUQuota=1600%" in units["ds01-student.slice"] and "TasksMax=400" in units["ds01-student.slice"]
    assert "CPUQuota=1600%" in units["ds01-research\\x2dlab-carol.slice"]
    assert "CPUQuota" not in units["ds01-admin-root.slice"] and "CPUQuota" not in units["ds01.slice"]
    assert all(text.startswith(slices.MARKER) and "[Slice]" in text for text in units.values())


def test_the_cgroup_parent_is_the_users_slice_only_when_enabled(tmp_path):
    user = identity.User("ds01t-alice", "ds01t-alice", 1001, 1001, "/home/x")
    (tmp_path / "off").mkdir()
    assert slices.cgroup_parent(make_config(tmp_path / "off", enabled=False), user) is None
    config = make_config(tmp_path)
    assert slices.cgroup_parent(config, user) == "ds01-student-ds01t\\x2dalice.slice"
    assert slices.cgroup_parent(config, "carol", driver="cgroupfs") == \
        "/ds01.slice/ds01-research\\x2dlab.slice/ds01-research\\x2dlab-carol.slice"


def test_apply_writes_changed_units_removes_stale_ones_and_reloads(tmp_path):
    config = make_config(tmp_path)
    unit_dir = tmp_path / "units"
    unit_dir.mkdir()
    (unit_dir / "ds01-student-gone.slice").write_text(slices.MARKER + "\n[Slice]\n")
    (unit_dir / "ds01-handmade.slice").write_text("[Slice]\n")
    calls = []
    report = slices.apply(config, unit_dir, logins=["alice"], run=calls.append, reload=True)
    assert sorted(report["written"]) == ["ds01-student-alice.slice", "ds01-student.slice", "ds01.slice"]
    assert report["removed"] == ["ds01-student-gone.slice"] and report["reloaded"]
    assert calls == [["systemctl", "daemon-reload"]]
    assert (unit_dir / "ds01-handmade.slice").exists()
    again = slices.apply(config, unit_dir, logins=["alice"], run=calls.append, reload=True)
    assert again["written"] == [] and len(again["unchanged"]) == 3 and not again["reloaded"]
    assert len(calls) == 1


def test_without_systemd_nothing_is_reloaded(tmp_path):
    calls = []
    report = slices.apply(make_config(tmp_path), tmp_path / "units", logins=["alice"], run=calls.append,
                          reload=False)
    assert report["written"] and not report["reloaded"] and calls == []


def test_setup_resource_slices_prints_valid_units_then_applies_the_same_into_a_unit_dir(ds01_env, tmp_path):
    printed = run_command("setup-resource-slices", "--dry-run")
    assert printed.returncode == 0, printed.stderr
    # The printout is the unit files, each after a "# --- NAME ---" comment line.
    chunks = re.split(r"^# --- (\S+) ---\n", printed.stdout, flags=re.M)
    assert chunks[0] == ""
    units = {name: text.rstrip("\n") + "\n" for name, text in zip(chunks[1::2], chunks[2::2])}
    assert "ds01.slice" in units and all(name.endswith(".slice") for name in units)
    allowed = {"[Unit]", "[Slice]", "Description", "Before", "CPUAccounting", "MemoryAccounting",
               "TasksAccounting", "CPUQuota", "MemoryMax", "TasksMax"}
    for text in units.values():
        lines = [line for line in text.splitlines() if line and not line.startswith("#")]
        assert lines[0] == "[Unit]" and "[Slice]" in lines
        assert all(line in allowed or line.split("=", 1)[0] in allowed and "=" in line for line in lines), text
    unit_dir = tmp_path / "systemd"
    applied = run_command("setup-resource-slices", "--apply", "--unit-dir", unit_dir)
    assert applied.returncode == 0, applied.stderr
    assert {path.name: path.read_text() for path in unit_dir.iterdir()} == units
    assert "slices.enabled is false" in applied.stdout
    if shutil.which("systemd-analyze"):  # systemd's own parser, where the host has it
        verified = subprocess.run(["systemd-analyze", "verify", *sorted(unit_dir.iterdir())],
                                  capture_output=True, text=True, cwd=unit_dir)
        assert verified.returncode == 0 and verified.stderr == "", verified.stderr


def test_the_configured_parent_names_the_whole_tree(tmp_path):
    config = make_config(tmp_path)
    config.raw["slices"]["parent"] = "gpu.slice"
    assert set(slices.units(config, logins=["alice"])) == {"gpu.slice", "gpu-student.slice",
                                                           "gpu-student-alice.slice"}
    assert slices.cgroup_parent(config, "alice") == "gpu-student-alice.slice"
