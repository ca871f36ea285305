"""DS01 on a real Slurm (one node, fake GPUs as GRES), real Docker and real users: containers
are jobs, quotas are Slurm QoS from setup-slurm-limits, exports pass sbatch --test-only."""

import os
import re
import subprocess
import time

import kubernetes_validate
import pytest
import yaml
from helpers import installed_site, run_command

IMAGE = "ds01-test/busybox:latest"


@pytest.fixture(scope="module")
def site(slurm_cluster, shared_root, installed, linux_users, docker_client):
    student, researcher = linux_users("i14s"), linux_users("i14r")
    config = {
        "default_group": "student", "workspace_root": "~/workspace",
        # One CPU and a little memory per container: the test node has 2 CPUs.
        "defaults": {"max_cpus": 1, "memory": "256m", "shm_size": "64m", "max_runtime": "1h",
                     "max_containers_per_user": 3},
        "groups": {"student": {"members": [student.pw_name], "max_mig_instances": 1, "idle_timeout": "10m"},
                   "researcher": {"members": [researcher.pw_name], "max_mig_instances": 2, "allow_full_gpu": True,
                                  "priority": 30}},
        "images": {"base": IMAGE},
        "cluster": {"scheduler": "slurm", "partition": "ds01", "full_gpu_type": "h100", "mig_type": "1g.10gb",
                    "slurm_conf": slurm_cluster.conf, "start_timeout": "60s"},
    }
    env, bin_dir = installed_site(installed, shared_root / "i14-slurm-site", config)
    env.update(slurm_cluster.env)
    applied = run_command("setup-slurm-limits", "--apply", env=env, bin_dir=bin_dir)
    assert applied.returncode == 0, applied.stderr
    yield {"env": env, "bin": bin_dir, "student": student, "researcher": researcher, "slurm": slurm_cluster,
           "docker": docker_client, "config": config, "applied": applied.stdout}
    for user in (student, researcher):
        slurm_cluster.run("scancel", "-u", user.pw_name, check=False)
    for entry in docker_client.api.containers(all=True, filters={"label": "ds01.managed=true"}):
        if (entry.get("Labels") or {}).get("ds01.user") in (student.pw_name, researcher.pw_name):
            subprocess.run(["docker", "rm", "-f", entry["Id"]], capture_output=True)


def ds01(site, who, command, *args, timeout=120):
    return run_command(command, *args, user=site[who].pw_name, bin_dir=site["bin"], env=site["env"],
                       timeout=timeout)


def job_of(site, who, name):
    """(job id, state) of the user's active job for container `name`, or None."""
    out = site["slurm"].run("squeue", "-h", "-u", site[who].pw_name, "-n", f"ds01-{name}", "-o", "%i %T").stdout
    return (int(out.split()[0]), out.split()[1]) if out.strip() else None


def container_of(site, who, name):
    found = site["docker"].containers.list(all=True, filters={"name": f"{name}._.{site[who].pw_uid}"})
    return found[0] if found else None


def test_limits_become_qos_and_a_second_apply_changes_nothing(site):
    assert "MaxTRESPerUser=gres/gpu=1" in site["applied"]
    qos = site["slurm"].run("sacctmgr", "-nP", "show", "assoc", f"user={site['student'].pw_name}",
                            "format=account,qos").stdout
    assert "ds01|ds01-student" in qos
    again = run_command("setup-slurm-limits", "--apply", env=site["env"], bin_dir=site["bin"])
    assert again.returncode == 0 and "nothing to change" in again.stdout


def test_a_student_deploys_runs_and_retires_through_slurm(site):
    deployed = ds01(site, "student", "container-deploy", "work", "--image", IMAGE, "--background")
    assert deployed.returncode == 0, deployed.stderr
    job_id, state = job_of(site, "student", "work")
    assert state == "RUNNING" and f"Slurm job {job_id}" in deployed.stdout
    # The GPU Slurm allocated (its index on the node) is the one the container sees.
    detail = site["slurm"].run("scontrol", "show", "job", "-d", str(job_id)).stdout
    index = re.search(r"GRES=gpu:1g\.10gb:1\(IDX:(\d+)\)", detail).group(1)
    container = container_of(site, "student", "work")
    environment = dict(item.split("=", 1) for item in container.attrs["Config"]["Env"])
    assert environment["CUDA_VISIBLE_DEVICES"] == index
    assert container.labels["ds01.slurm.job"] == str(job_id)
    # As on one server: HOME is not the workspace (busybox is no DS01-built image: /tmp), the
    # workspace is the working directory, and a host port is forwarded to the service port.
    assert environment["HOME"] == "/tmp" and container.attrs["Config"]["WorkingDir"] == "/workspace"
    port = container.labels["ds01.port"]
    assert container.attrs["HostConfig"]["PortBindings"]["8888/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": port}]
    assert container.attrs["Config"]["User"] == f"{site['student'].pw_uid}:{site['student'].pw_gid}"

    ran = ds01(site, "student", "container-run", "work", "--", "sh", "-c",
               "echo $CUDA_VISIBLE_DEVICES > /workspace/seen; exit 7")
    assert ran.returncode == 7, ran.stderr
    assert "Exited with exit code" not in ran.stderr  # srun's own line is not the user's business
    listed = ds01(site, "student", "container-list")
    assert re.search(r"work\s+running\s+" + re.escape(IMAGE), listed.stdout)
    status = ds01(site, "student", "gpu-status")
    assert re.search(rf"{site['slurm'].node}\s+\w+\s+1g\.10gb\s+1/2", status.stdout), status.stdout
    assert ds01(site, "student", "container-stop", "work").returncode == 0
    assert container_of(site, "student", "work").status == "exited"
    assert job_of(site, "student", "work")[1] == "RUNNING"  # a stopped container keeps its GPU, as on one server
    assert ds01(site, "student", "container-start", "work").returncode == 0
    assert container_of(site, "student", "work").status == "running"

    retired = ds01(site, "student", "container-retire", "work", "--yes")
    assert retired.returncode == 0, retired.stderr
    assert job_of(site, "student", "work") is None and container_of(site, "student", "work") is None
    workspace = site["student"].pw_dir + "/workspace/work/seen"
    assert open(workspace).read().strip() == index


def test_slurm_refuses_a_students_second_gpu_but_serves_it_with_wait(site):
    assert ds01(site, "student", "container-deploy", "one", "--image", IMAGE, "--background").returncode == 0
    refused = ds01(site, "student", "container-deploy", "two", "--image", IMAGE, "--background")
    assert refused.returncode == 3
    assert "GPU quota" in refused.stderr and "QOSMaxGRESPerUser" in refused.stderr
    assert job_of(site, "student", "two") is None  # the refused job was cancelled, not left queued

    accepted = ds01(site, "researcher", "container-deploy", "big", "--image", IMAGE, "--background")
    assert accepted.returncode == 0, accepted.stderr
    assert ds01(site, "researcher", "container-retire", "big", "--yes").returncode == 0

    waiting = subprocess.Popen(
        ["runuser", "-u", site["student"].pw_name, "--", str(site["bin"] / "container-deploy"), "two",
         "--image", IMAGE, "--background", "--wait"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**__import__("os").environ, **{key: str(value) for key, value in site["env"].items()}})
    try:
        deadline = time.monotonic() + 60
        # Poll until the other process's job is queued and Slurm has said why (not a wait for time).
        while "GPU quota" not in (queue := ds01(site, "student", "gpu-queue")).stdout and time.monotonic() < deadline:
            time.sleep(0.2)
        assert re.search(r"1\s+\d+\s+ds01t-i14s\s+two\s+gpu:1g.10gb:1", queue.stdout), queue.stdout
        assert job_of(site, "student", "two")[1] == "PENDING"
        assert ds01(site, "student", "container-retire", "one", "--yes").returncode == 0
        out, err = waiting.communicate(timeout=90)
    finally:
        waiting.kill()
    assert waiting.returncode == 0, err
    assert job_of(site, "student", "two")[1] == "RUNNING"
    assert ds01(site, "student", "container-retire", "two", "--yes").returncode == 0


def test_idle_cleanup_on_the_node_retires_a_job_backed_container_via_slurm(site):
    from ds01common import config as config_module
    from ds01common import lifecycle

    assert ds01(site, "student", "container-deploy", "sleepy", "--image", IMAGE, "--background").returncode == 0
    config = config_module.load(site["env"]["DS01_CONFIG"])
    options = dict(state_dir=site["env"]["DS01_STATE_DIR"], log_dir=site["env"]["DS01_LOG_DIR"],
                   workspace_under=site["student"].pw_dir, gpu_processes=list, notify=lambda *args: None,
                   environment=dict(os.environ))
    start = time.time()
    lifecycle.run_pass(site["docker"], config, now=start, **options)            # idle from now on
    report = lifecycle.run_pass(site["docker"], config, now=start + 11 * 60, **options)  # past idle_timeout
    assert [(action["container"], action["action"]) for action in report["actions"]] == [("sleepy", "retire")]
    assert job_of(site, "student", "sleepy") is None and container_of(site, "student", "sleepy") is None


def test_exports_pass_sbatch_test_only_and_the_kubernetes_schema(site, tmp_path):
    script = site["student"].pw_dir + "/work.sbatch"
    exported = ds01(site, "student", "container-export", "work", "--to", "slurm", "-o", script,
                    "--", "python", "train.py")
    assert exported.returncode == 0, exported.stderr
    tested = site["slurm"].run("sbatch", "--test-only", script, user=site["student"].pw_name, check=False)
    assert tested.returncode == 0 and "to start at" in tested.stderr, tested.stderr
    manifest = ds01(site, "student", "container-export", "work", "--to", "k8s")
    assert manifest.returncode == 0, manifest.stderr
    document = yaml.safe_load(manifest.stdout)
    kubernetes_validate.validate(document, "1.30.0", strict=True)
    assert document["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/mig-1g.10gb"] == "1"
