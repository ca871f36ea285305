"""`make install` lays out a working server; real users run the installed copy."""

import json
import os
import stat
import subprocess

import pytest
from helpers import ROOT, installed_site, run_command


@pytest.fixture(scope="module")
def destdir_install(shared_root):
    destdir = shared_root / "destdir"
    result = subprocess.run(["make", "-s", "install", f"DESTDIR={destdir}", "PREFIX=/usr/local"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return destdir


def test_install_with_destdir_lays_out_every_part(destdir_install):
    root = destdir_install
    for command in ("get-resource-limits", "alias-list"):
        script = root / "usr/local/bin" / command
        assert os.access(script, os.X_OK)
        # -I: the caller's PYTHONPATH, PYTHONHOME and user site-packages do not reach DS01's Python.
        assert script.read_text().splitlines()[0] == "#!/usr/local/lib/ds01/venv/bin/python -I"
    assert os.readlink(root / "usr/local/bin/check-limits") == "get-resource-limits"
    assert (root / "usr/local/lib/ds01/ds01common/config.py").is_file()
    assert (root / "etc/ds01/resource-limits.yaml").read_text() == (ROOT / "config/resource-limits.yaml").read_text()
    cron = (root / "etc/cron.d/ds01").read_text()
    assert "/usr/local/bin/cleanup-idle-containers" in cron and "*/5" in cron
    for directory in ("var/lib/ds01", "var/log/ds01"):
        info = (root / directory).stat()
        assert stat.S_IMODE(info.st_mode) == 0o2770
        import grp
        assert grp.getgrgid(info.st_gid).gr_name == "docker"


def test_install_bakes_its_paths_and_a_visudo_checked_sudoers_drop_in(destdir_install):
    root = destdir_install
    baked = (root / "usr/local/lib/ds01/ds01common/_install.py").read_text()
    for path in ("/etc/ds01/resource-limits.yaml", "/var/lib/ds01", "/var/log/ds01", "/usr/local/bin"):
        assert f'"{path}"' in baked
    sudoers = root / "etc/sudoers.d/ds01"
    assert stat.S_IMODE(sudoers.stat().st_mode) == 0o440
    text = sudoers.read_text()
    assert "%ds01-users ALL = (root) NOPASSWD: DS01_DS01_USERS" in text and "env_reset" in text
    assert "/usr/local/bin/container-create" in text and "/usr/local/bin/container-logs" in text
    assert subprocess.run(["visudo", "-cqf", str(sudoers)], capture_output=True).returncode == 0


def test_the_installed_commands_run_on_their_private_virtualenv(destdir_install, tmp_path):
    root = destdir_install
    python = root / "usr/local/lib/ds01/venv/bin/python"
    result = subprocess.run([str(python), str(root / "usr/local/bin/get-resource-limits"), "--json"],
                            capture_output=True, text=True,
                            env={"DS01_CONFIG": str(root / "etc/ds01/resource-limits.yaml"),
                                 "DS01_STATE_DIR": str(tmp_path), "DS01_LOG_DIR": str(tmp_path),
                                 "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["group"] == "admin"


def test_reinstalling_keeps_an_edited_config(destdir_install):
    config = destdir_install / "etc/ds01/resource-limits.yaml"
    config.write_text(config.read_text() + "\n# edited by the admin\n")
    result = subprocess.run(["make", "-s", "install", f"DESTDIR={destdir_install}", "PREFIX=/usr/local"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert config.read_text().endswith("# edited by the admin\n")


@pytest.fixture(scope="module")
def server(installed, linux_users, shared_root):
    """The installed copy with a config naming two real users."""
    student = linux_users("lstudent")
    researcher = linux_users("lresearch")
    config = {"default_group": "student",
              "groups": {"student": {"members": [], "max_mig_instances": 1},
                         "researcher": {"members": [researcher.pw_name], "max_mig_instances": 2, "memory": "64g"}}}
    env, bin_dir = installed_site(installed, shared_root / "install-test-site", config)
    return {"config": env["DS01_CONFIG"], "student": student, "researcher": researcher, "bin": bin_dir,
            "env": env}


def test_a_real_user_reads_their_own_limits_and_gets_a_limits_file(server):
    user = server["researcher"]
    result = run_command("get-resource-limits", "--json", env=server["env"], user=user.pw_name, bin_dir=server["bin"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["group"] == "researcher"
    limits_file = os.path.join(user.pw_dir, ".ds01-limits")
    assert "GPU slots: 2" in open(limits_file).read().splitlines()
    assert os.stat(limits_file).st_uid == user.pw_uid


def test_a_non_admin_using_user_gets_exit_4(server):
    result = run_command("get-resource-limits", "--user", server["researcher"].pw_name, env=server["env"],
                         user=server["student"].pw_name, bin_dir=server["bin"])
    assert result.returncode == 4
    assert result.stderr.count("\n") == 1 and "permission denied" in result.stderr
    positional = run_command("get-resource-limits", server["researcher"].pw_name, env=server["env"],
                             user=server["student"].pw_name, bin_dir=server["bin"])
    assert positional.returncode == 4


def test_installed_state_dir_lets_every_docker_user_write_shared_state(server, installed):
    """A user with a strict umask still leaves the ledger writable for the next user."""
    script = ("import sys; sys.path.insert(0, sys.argv[1]); from ds01common import statefile\n"
              "s = statefile.StateFile(sys.argv[2])\n"
              "with s.transaction() as d: d.setdefault('writers', []).append(sys.argv[3])\n")
    python = str(installed["PREFIX"] / "lib/ds01/venv/bin/python")
    path = str(installed["STATEDIR"] / "shared-test.json")
    lib = str(installed["PREFIX"] / "lib/ds01")
    for user in (server["student"], server["researcher"]):
        result = subprocess.run(["runuser", "-u", user.pw_name, "--", "sh", "-c",
                                 f"umask 077; exec {python} -c \"$0\" {lib} {path} {user.pw_name}", script],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    data = json.loads(open(path).read())
    assert data["writers"] == [server["student"].pw_name, server["researcher"].pw_name]


def test_uninstall_removes_commands_and_library_but_keeps_config_and_state(destdir_install):
    (destdir_install / "var/lib/ds01/gpu-state.json").write_text("{}")
    result = subprocess.run(["make", "-s", "uninstall", f"DESTDIR={destdir_install}", "PREFIX=/usr/local"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert not list((destdir_install / "usr/local/bin").iterdir())
    assert not (destdir_install / "usr/local/lib/ds01").exists()
    assert not (destdir_install / "etc/cron.d/ds01").exists()
    assert (destdir_install / "etc/ds01/resource-limits.yaml").is_file()
    assert (destdir_install / "var/lib/ds01/gpu-state.json").is_file()


def test_the_cron_job_runs_as_root_on_the_installed_dirs_and_logs_plain_timestamped_lines(installed, tmp_path):
    import re
    lines = (installed["CRONDIR"] / "ds01").read_text().splitlines()
    # What cron gives a job: HOME, LOGNAME and the file's own VAR=value lines, nothing else.
    env = {"HOME": "/root", "LOGNAME": "root"}
    env.update(line.split("=", 1) for line in lines if re.match(r"^[A-Z][A-Z0-9_]*=", line))
    assert env["DS01_STATE_DIR"] == str(installed["STATEDIR"]) and env["DS01_LOG_DIR"] == str(installed["LOGDIR"])
    (job,) = [line for line in lines if line.startswith("*/5 ")]
    minute, hour, day, month, weekday, user, command = job.split(None, 6)
    assert user == "root"
    # Limited to an empty dir so that this pass leaves the containers of tests running beside it alone.
    command = command.replace("/cleanup-idle-containers", f"/cleanup-idle-containers --workspace-under {tmp_path}", 1)
    result = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
    log = (installed["LOGDIR"] / "cleanup.log").read_text()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ checked 0 DS01 container\(s\): 0 retired, 0 warned, "
                        r"0 exempt", log.splitlines()[-1]), log
    assert "\x1b" not in log
    assert (installed["STATEDIR"] / "lifecycle.json").is_file()


def test_a_users_ds01_variables_do_not_move_the_installed_copy(server):
    """DS01_CONFIG naming a user's own file (making them an admin) is ignored for them."""
    user = server["student"]
    own = os.path.join(user.pw_dir, "my.yaml")
    with open(own, "w") as handle:
        handle.write("admin_group: students-rule\ndefault_group: student\ngroups: {student: {members: []}}\n")
    os.chmod(own, 0o644)
    env = dict(server["env"], DS01_CONFIG=own, DS01_STATE_DIR=user.pw_dir, DS01_LOG_DIR=user.pw_dir)
    result = run_command("get-resource-limits", "--json", env=env, user=user.pw_name, bin_dir=server["bin"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["group"] == "student"
    denied = run_command("get-resource-limits", "--user", server["researcher"].pw_name, env=env,
                         user=user.pw_name, bin_dir=server["bin"])
    assert denied.returncode == 4
