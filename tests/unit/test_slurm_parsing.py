"""Parsing of Slurm's output (captured from Debian's Slurm 22.05 running one node with
fake GPUs: one h100 and two 1g.10gb MIG-profile GRES), and Slurm's refusals as exit codes."""

import subprocess

import pytest
from ds01common import slurm
from ds01common.errors import PermissionDenied, ResourcesUnavailable

SQUEUE = """\
5|ds01-a2|ds01t-i14r|RUNNING|None|vm|gres:gpu:1g.10gb:1|1:00:00|0:09|333|2026-12-01T09:10:27|ds01-test/busybox:latest|1|256M
6|ds01-a3|ds01t-i14s|PENDING|QOSMaxGRESPerUser||gres:gpu:1g.10gb:1|1:00:00|0:00|333|2026-12-01T09:10:29|ds01-test/busybox:latest|1|256M
8|plain-job|root|RUNNING|None|vm|N/A|10:00|0:01|1|2026-12-01T09:11:00|(null)|1|100M
"""

NODE = ("NodeName=vm Arch=x86_64 CoresPerSocket=1  CPUAlloc=1 CPUEfctv=2 CPUTot=2 CPULoad=0.58 "
        "AvailableFeatures=(null) ActiveFeatures=(null) Gres=gpu:h100:1,gpu:1g.10gb:2 GresDrain=N/A "
        "GresUsed=gpu:h100:0(IDX:N/A),gpu:1g.10gb:1(IDX:1) NodeAddr=vm NodeHostName=vm Version=22.05.8 "
        "OS=Linux 6.18.44-fc-v769 #1 SMP PREEMPT_DYNAMIC @0  RealMemory=23081 AllocMem=256 FreeMem=22343 "
        "Sockets=2 Boards=1 State=MIXED ThreadsPerCore=1 TmpDisk=0 Weight=1 Owner=N/A MCS_label=N/A "
        "Partitions=ds01  BootTime=2026-12-01T08:57:03 SlurmdStartTime=2026-12-01T09:02:43 "
        "CfgTRES=cpu=2,mem=23081M,billing=2,gres/gpu=3,gres/gpu:1g.10gb=2,gres/gpu:h100=1 AllocTRES=")


def test_squeue_lines_become_jobs_with_gres_and_image():
    running, pending, plain = slurm.parse_squeue(SQUEUE)
    assert (running.job_id, running.name, running.user, running.nodes) == (5, "ds01-a2", "ds01t-i14r", "vm")
    assert running.running and running.gres == "gpu:1g.10gb:1"
    assert running.comment == "ds01-test/busybox:latest" and running.memory == "256M"
    assert pending.pending and pending.reason == "QOSMaxGRESPerUser" and pending.nodes == ""
    assert plain.gres == "" and plain.comment == ""


def test_a_node_line_keeps_values_with_spaces_and_counts_gpus_in_use():
    (node,) = slurm.parse_nodes(NODE)
    assert node.fields["OS"] == "Linux 6.18.44-fc-v769 #1 SMP PREEMPT_DYNAMIC @0"
    assert (node.name, node.state, node.partitions) == ("vm", "MIXED", ("ds01",))
    assert (node.cpus_total, node.cpus_allocated, node.memory_mb) == (2, 1, 23081)
    by_type = {gres.type: gres for gres in node.gres}
    assert (by_type["h100"].total, by_type["h100"].used) == (1, 0)
    assert (by_type["1g.10gb"].total, by_type["1g.10gb"].used, by_type["1g.10gb"].indexes) == (2, 1, "1")


def test_a_job_record_reads_state_reason_and_tres():
    record = slurm.parse_record(
        "JobId=2 JobName=ds01-probe UserId=root(0) JobState=PENDING Reason=QOSMaxGRESPerUser "
        "TRES=cpu=1,mem=100M,node=1,billing=1,gres/gpu=1 WorkDir=/home/a/workspace/x TresPerNode=gres:gpu:1")
    assert record["JobState"] == "PENDING" and record["Reason"] == "QOSMaxGRESPerUser"
    assert record["TRES"] == "cpu=1,mem=100M,node=1,billing=1,gres/gpu=1"
    assert record["WorkDir"] == "/home/a/workspace/x"


def test_sinfo_marks_the_default_partition():
    (partition,) = slurm.parse_sinfo("ds01*|up|1|idle|gpu:h100:1,gpu:1g.10gb:2\n")
    assert partition.name == "ds01" and partition.default and partition.gres == "gpu:h100:1,gpu:1g.10gb:2"


def test_untyped_and_typed_gres_with_socket_annotations_parse():
    counts = slurm.parse_gres("gpu:4(S:0-1),gpu:a100:2", "gpu:1(IDX:0),gpu:a100:2(IDX:4-5)")
    assert [(item.type, item.total, item.used) for item in counts] == [("", 4, 1), ("a100", 2, 2)]


def test_quota_reasons_are_said_in_words():
    assert "GPU quota" in slurm.reason_in_words("QOSMaxGRESPerUser")
    assert "QOSSomethingNew" in slurm.reason_in_words("QOSSomethingNew")
    assert slurm.reason_in_words("Dependency") == "Dependency"


def _failed(stderr):
    return subprocess.CompletedProcess(["sbatch"], 1, "", stderr)


def test_a_missing_association_is_a_permission_error_naming_the_fix():
    error = slurm.slurm_error(["sbatch"], _failed(
        "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified"))
    assert isinstance(error, PermissionDenied) and "setup-slurm-limits" in str(error)


def test_a_qos_refusal_at_submit_is_exit_3():
    error = slurm.slurm_error(["sbatch"], _failed(
        "sbatch: error: Batch job submission failed: Job violates accounting/QOS policy "
        "(job submit limit, user's size and/or time limits)"))
    assert isinstance(error, ResourcesUnavailable) and error.exit_code == 3


class _Recorder:
    def __init__(self, stdout=""):
        self.calls = []
        self.stdout = stdout

    def __call__(self, command, **options):
        self.calls.append((command, options))
        return subprocess.CompletedProcess(command, 0, self.stdout, "")


def test_every_tool_gets_the_configured_slurm_conf():
    runner = _Recorder(SQUEUE)
    tools = slurm.Slurm(conf="/etc/cluster/slurm.conf", environment={"PATH": "/usr/bin"}, runner=runner)
    jobs = tools.jobs(user="ds01t-i14s", name="ds01-a3")
    command, options = runner.calls[0]
    assert command[:2] == ["squeue", "-h"] and ["-u", "ds01t-i14s"] == command[command.index("-u"):][:2]
    assert options["env"] == {"PATH": "/usr/bin", "SLURM_CONF": "/etc/cluster/slurm.conf"}
    assert len(jobs) == 3


def test_a_step_shares_the_job_allocation_and_passes_the_exit_code_on_without_sruns_line():
    calls = []

    def pass_through(command, drop, env=None, user=None):
        calls.append((command, drop))
        return 7

    result = slurm.Slurm(runner=_Recorder(), pass_through=pass_through).step(42, ["false"])
    command, drop = calls[0]
    assert command[:4] == ["srun", "--jobid", "42", "--overlap"] and command[-1] == "false"
    assert result.returncode == 7
    assert drop("srun: error: vm: task 0: Exited with exit code 7")
    assert not drop("Traceback (most recent call last):")


@pytest.mark.parametrize("output", ["123\n", "123;cluster\n"])
def test_sbatch_parsable_output_gives_the_job_id(output):
    assert slurm.Slurm(runner=_Recorder(output)).submit("#!/bin/sh\n") == 123
