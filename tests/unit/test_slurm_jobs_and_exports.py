"""The job DS01 submits for a container, the exported batch script and Kubernetes Job, and the
QoS plan of setup-slurm-limits: pure functions of the config and the user's limits."""

import json
import shlex

import kubernetes_validate
import pytest
import yaml
from ds01common import config as config_module
from ds01common import slurm_limits
from ds01common.backend import jobspec, k8s
from ds01common.cluster import ClusterSettings, settings
from ds01common.errors import ConfigError, PermissionDenied, ResourcesUnavailable
from ds01common.records import Limits

CLUSTER = ClusterSettings(scheduler="slurm", partition="gpu", full_gpu_type="h100", mig_type="1g.10gb")
STUDENT = Limits(max_gpus_per_container=1, allow_full_gpu=False, max_cpus=2.5, memory=4 * 2**30,
                 shm_size=2**30, pids_limit=512, max_runtime=24 * 3600, group="student")
RESEARCHER = Limits(max_gpus_per_container=2, allow_full_gpu=True, max_cpus=8, memory=64 * 2**30,
                    max_runtime=None, group="researcher")


def _request(limits=STUDENT, **options):
    return jobspec.build_request(name="thesis", login="ada", user="ada", uid=1234, gid=1234,
                                 image="ds01-ada/thesis:latest", workspace="/home/ada/workspace/thesis",
                                 limits=limits, cluster=CLUSTER, **options)


def test_a_default_request_asks_for_one_mig_instance_and_the_users_limits():
    options = jobspec.sbatch_options(_request())
    assert "--gres=gpu:1g.10gb:1" in options
    assert {"--cpus-per-task=3", "--mem=4096M", "--time=1440", "--partition=gpu", "--account=ds01",
            "--job-name=ds01-thesis"} <= set(options)


def test_full_gpu_asks_for_the_full_gpu_type_for_a_researcher():
    assert _request(RESEARCHER, full_gpu=True, gpus=2).gres == "gpu:h100:2"
    assert not any(option.startswith("--time") for option in jobspec.sbatch_options(_request(RESEARCHER)))


def test_a_student_never_gets_a_full_gpu():
    with pytest.raises(PermissionDenied):
        _request(full_gpu=True)


def test_more_gpus_than_one_container_may_have_is_exit_3_before_slurm_is_asked():
    with pytest.raises(ResourcesUnavailable):
        _request(gpus=2)


def test_cpu_only_asks_for_no_gres():
    assert _request(cpu_only=True).gres is None
    assert not any(option.startswith("--gres") for option in jobspec.sbatch_options(_request(cpu_only=True)))


def test_the_job_script_carries_the_request_to_the_node_runner():
    request = _request()
    script = jobspec.job_script(request, python="/opt/ds01/venv/bin/python", lib_dir="/opt/ds01",
                                output="/home/ada/.ds01/slurm/thesis-%j.out")
    lines = script.splitlines()
    assert lines[0] == "#!/bin/sh" and "#SBATCH --gres=gpu:1g.10gb:1" in lines
    assert "#SBATCH --comment=ds01-ada/thesis:latest" in lines
    assert "#SBATCH --chdir=/home/ada/workspace/thesis" in lines
    body = lines[lines.index("DS01_JOB") - 1]
    assert jobspec.request_from_json(body) == request
    assert "-m ds01common.backend.node job" in script


def test_a_job_name_maps_back_to_the_ds01_name_and_other_jobs_are_ignored():
    assert jobspec.ds01_name(jobspec.job_name("thesis")) == "thesis"
    assert jobspec.ds01_name("interactive") is None


def test_the_exported_batch_script_runs_the_container_with_the_same_limits():
    script = jobspec.export_script(_request(), ["python", "train.py"])
    assert "#SBATCH --gres=gpu:1g.10gb:1" in script and "#SBATCH --mem=4096M" in script
    run_line = [line for line in script.splitlines() if line.startswith("exec docker run")][0]
    words = shlex.split(run_line.replace("$gpu_options ", ""))
    assert words[words.index("--user") + 1] == "1234:1234"
    assert words[words.index("--volume") + 1] == "/home/ada/workspace/thesis:/workspace"
    assert words[words.index("--memory") + 1] == "4096m" and words[words.index("--cpus") + 1] == "3"
    assert words[-3:] == ["ds01-ada/thesis:latest", "python", "train.py"]
    assert "CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES" in script


def test_exports_give_home_as_one_server_does_and_keep_the_workspace_as_working_directory():
    built = _request(home="/home/ada")  # an image DS01 built: its ds01.home label
    for request, home in ((built, "/home/ada"), (_request(), "/tmp")):
        words = shlex.split([line for line in jobspec.export_script(request, ["true"]).splitlines()
                             if line.startswith("exec docker run")][0].replace("$gpu_options ", ""))
        environment = [words[index + 1] for index, word in enumerate(words) if word == "--env"]
        assert f"HOME={home}" in environment and "HOME=/workspace" not in environment
        assert words[words.index("--workdir") + 1] == "/workspace"
        container = k8s.job_manifest(request, ["true"])["spec"]["template"]["spec"]["containers"][0]
        assert {"name": "HOME", "value": home} in container["env"] and container["workingDir"] == "/workspace"
        assert container["ports"] == [{"name": "service", "containerPort": 8888, "protocol": "TCP"}]
    _validate(json.loads(json.dumps(k8s.job_manifest(built, ["true"]))))


def _validate(manifest):
    kubernetes_validate.validate(manifest, "1.30.0", strict=True)


def test_the_kubernetes_job_passes_schema_validation_with_a_mig_limit():
    manifest = k8s.job_manifest(_request(), ["python", "train.py"])
    _validate(json.loads(json.dumps(manifest)))
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"] == {"cpu": "3", "memory": "4096Mi", "nvidia.com/mig-1g.10gb": "1"}
    assert manifest["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == 1234
    assert manifest["spec"]["activeDeadlineSeconds"] == 24 * 3600
    volume = manifest["spec"]["template"]["spec"]["volumes"][0]
    assert volume["hostPath"]["path"] == "/home/ada/workspace/thesis"


def test_a_full_gpu_job_asks_kubernetes_for_nvidia_gpus():
    manifest = k8s.job_manifest(_request(RESEARCHER, full_gpu=True, gpus=2), ["true"])
    _validate(manifest)
    limits = manifest["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits["nvidia.com/gpu"] == "2" and "activeDeadlineSeconds" not in manifest["spec"]


def test_a_broken_manifest_is_caught_by_the_validator():
    manifest = k8s.job_manifest(_request(), ["true"])
    manifest["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = ["not", "a", "quantity"]
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(manifest)


# --- config and QoS plan ---

def _config(tmp_path, document):
    path = tmp_path / "limits.yaml"
    path.write_text(yaml.safe_dump(document))
    return config_module.load(path)


BASE = {"default_group": "student",
        "groups": {"student": {"members": ["sam"], "max_mig_instances": 1, "max_runtime": "24h"},
                   "researcher": {"members": ["rita", "bob"], "max_mig_instances": 2, "priority": 30}},
        "user_overrides": {"bob": {"max_mig_instances": 3, "reason": "thesis"}},
        "cluster": {"scheduler": "slurm", "partition": "gpu", "mig_type": "1g.10gb"}}


def test_no_cluster_section_means_one_server(tmp_path):
    assert settings(_config(tmp_path, {k: v for k, v in BASE.items() if k != "cluster"})) is None
    cluster = settings(_config(tmp_path, BASE))
    assert cluster is not None and cluster.partition == "gpu" and cluster.start_timeout == 120


def test_an_unknown_scheduler_is_a_config_error_naming_the_key(tmp_path):
    with pytest.raises(ConfigError, match="cluster.scheduler"):
        _config(tmp_path, dict(BASE, cluster={"scheduler": "pbs"}))


def test_quotas_map_to_one_qos_per_group_and_one_per_override(tmp_path):
    plan = slurm_limits.desired(_config(tmp_path, BASE), "ds01")
    qos = {spec.name: spec for spec in plan.qos}
    assert qos["ds01-student"].gpus_per_user == 1 and qos["ds01-student"].wall_minutes == 1440
    assert qos["ds01-researcher"].priority == 30 and qos["ds01-researcher"].gpus_per_user == 2
    assert qos["ds01-researcher-bob"].gpus_per_user == 3
    assert {(user.login, user.qos) for user in plan.users} == {
        ("sam", "ds01-student"), ("rita", "ds01-researcher"), ("bob", "ds01-researcher-bob")}
    lines = [slurm_limits.command_line(command) for command in slurm_limits.commands(plan, slurm_limits.Current())]
    add = next(line for line in lines if "modify qos where name=ds01-student " in line)
    assert "MaxTRESPerUser=gres/gpu=1" in add and "MaxJobsPerUser=3" in add and "MaxWall=1440" in add


def test_applying_the_plan_twice_changes_nothing(tmp_path):
    plan = slurm_limits.desired(_config(tmp_path, BASE), "ds01")
    # What sacctmgr -nP shows after the first --apply (its own spelling of the same values).
    shown = {spec.name: slurm_limits.qos_from_row({
        "name": spec.name, "priority": str(spec.priority), "maxtrespu": f"gres/gpu={spec.gpus_per_user}",
        "maxjobspu": str(spec.jobs_per_user),
        "maxwall": "1-00:00:00" if spec.wall_minutes == 1440 else "",
        "maxtres": f"cpu={spec.cpus_per_job},gres/gpu={spec.gpus_per_job},mem=32G", "flags": "DenyOnLimit"})
        for spec in plan.qos}
    current = slurm_limits.Current(accounts={"ds01"}, qos=shown,
                                   associations={user.login: (user.qos, user.qos) for user in plan.users})
    assert slurm_limits.commands(plan, current) == []
    current.associations["sam"] = ("normal", "normal")
    assert slurm_limits.commands(plan, current) == [
        ["modify", "user", "where", "name=sam", "account=ds01", "set", "QOS=ds01-student", "DefaultQOS=ds01-student"]]


def test_users_without_an_account_here_are_skipped(tmp_path):
    plan = slurm_limits.desired(_config(tmp_path, BASE), "ds01", user_exists=lambda login: login != "bob")
    assert plan.skipped == ["bob"] and "bob" not in {user.login for user in plan.users}
