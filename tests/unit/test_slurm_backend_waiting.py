"""The login side of the Slurm backend against a scripted Slurm: what create does while the
job pends (refuse and cancel, or wait and report the queue position), when the node runner
reports the container running or failing, and how the node runner builds the container."""

import threading

import pytest
from ds01common import identity, slurm
from ds01common.backend import node
from ds01common.backend.jobspec import JobRequest
from ds01common.backend.slurm import SlurmBackend
from ds01common.cluster import ClusterSettings
from ds01common.errors import Ds01Error, ResourcesUnavailable
from ds01common.records import Limits
from fakes.clock import FakeClock
from fakes.engine import FakeEngine


class ScriptedSlurm:
    """Answers `job(id)` from a list of (state, reason) in turn; records submissions and cancels."""

    def __init__(self, states, output_dir, output_after=None):
        self.states = list(states)
        self.cancelled = []
        self.submitted = []
        self.output_dir = output_dir
        self.output_after = output_after or {}   # poll number -> text the job has printed by then
        self.polls = 0

    def jobs(self, user=None, name=None, job_id=None):
        if name is not None:
            return []
        return [slurm.Job(job_id=9, name="ds01-other", user="x", state="PENDING", reason="Priority", nodes="",
                          gres="", time_limit="", elapsed="", priority=900, submitted="", comment="", cpus=1,
                          memory=""),
                slurm.Job(job_id=41, name="ds01-thesis", user="ada", state="PENDING", reason="QOSMaxGRESPerUser",
                          nodes="", gres="gpu:1", time_limit="", elapsed="", priority=100, submitted="", comment="",
                          cpus=1, memory="")]

    def submit(self, script, user=None):
        self.submitted.append(script)
        return 41

    def job(self, job_id):
        self.polls += 1
        if self.polls in self.output_after:
            (self.output_dir / "thesis-41.out").write_text(self.output_after[self.polls])
        state, reason = self.states[min(self.polls - 1, len(self.states) - 1)]
        return {"JobState": state, "Reason": reason}

    def cancel(self, job_id, user=None):
        self.cancelled.append(job_id)


class FakeConfig:
    def __init__(self, workspace_root):
        self.root = workspace_root

    def limits_for(self, login):
        return Limits(max_gpus_per_container=1, max_cpus=1, memory=2**28, group="student")

    def workspace_dir(self, home):
        return self.root


@pytest.fixture
def make_backend(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".ds01" / "slurm").mkdir(parents=True)
    user = identity.User("ada", "ada", 1234, 1234, str(home))
    monkeypatch.setattr("ds01common.userfiles.make_directory", lambda path, user, mode=0o755: path)
    monkeypatch.setattr("ds01common.container_spec.prepare_workspace",
                        lambda config, user, name, workspace=None: tmp_path / "ws" / name)
    monkeypatch.setattr("ds01common.events.record", lambda *args, **kwargs: None)
    said = []

    def make(states, output_after=None):
        tools = ScriptedSlurm(states, home / ".ds01" / "slurm", output_after)
        backend = SlurmBackend(config=FakeConfig(tmp_path / "ws"), cluster=ClusterSettings(scheduler="slurm",
                               start_timeout=30), user=user, tools=tools, clock=FakeClock(),
                               python="/usr/bin/python3")
        return backend, tools, said
    return make


def test_a_job_held_by_a_qos_limit_is_cancelled_and_refused_in_words(make_backend):
    backend, tools, _ = make_backend([("PENDING", "None"), ("PENDING", "QOSMaxGRESPerUser")])
    with pytest.raises(ResourcesUnavailable, match="GPU quota.*QOSMaxGRESPerUser.*--wait") as refused:
        backend.create("thesis", image="img")
    assert refused.value.exit_code == 3 and tools.cancelled == [41]


def test_with_wait_the_job_stays_queued_reports_its_position_and_returns_when_running(make_backend):
    states = [("PENDING", "QOSMaxGRESPerUser")] * 3 + [("RUNNING", "None")] * 2
    backend, tools, _ = make_backend(states, output_after={5: "DS01-READY abc\n"})
    said = []
    result = backend.create("thesis", image="img", wait=float("inf"), progress=said.append)
    assert result["status"] == "running" and result["job"] == 41 and tools.cancelled == []
    assert said == ["queued in Slurm as job 41, position 2: your GPU quota (QoS MaxTRESPerUser gres/gpu) "
                    "is in use by your other containers"]


def test_a_limited_wait_gives_up_cancels_and_says_how_long_it_waited(make_backend):
    backend, tools, _ = make_backend([("PENDING", "Resources")])
    with pytest.raises(ResourcesUnavailable, match="waited 5s"):
        backend.create("thesis", image="img", wait=5)
    assert tools.cancelled == [41]
    # It waited on the clock it was given, polling Slurm every half second, just past the 5 s asked for.
    assert set(backend.clock.sleeps) == {0.5} and 5 < sum(backend.clock.sleeps) <= 5.5


def test_a_container_that_fails_on_its_node_is_reported_with_the_nodes_reason(make_backend):
    backend, tools, _ = make_backend([("RUNNING", "None")],
                                     output_after={1: "DS01-FAILED no image for thesis: build one\n"})
    with pytest.raises(Ds01Error, match="could not start on its node: no image for thesis"):
        backend.create("thesis", image="img")
    assert tools.cancelled == [41]


def test_a_job_that_never_reports_ready_times_out_and_is_cancelled(make_backend):
    backend, tools, _ = make_backend([("RUNNING", "None")])
    with pytest.raises(Ds01Error, match="did not start within 30s"):
        backend.create("thesis", image="img")
    assert tools.cancelled == [41]


def test_the_submitted_script_asks_for_the_users_limits(make_backend):
    backend, tools, _ = make_backend([("RUNNING", "None")], output_after={1: "DS01-READY x\n"})
    backend.create("thesis", image="img")
    assert "#SBATCH --gres=gpu:1" in tools.submitted[0] and "#SBATCH --mem=256M" in tools.submitted[0]


# --- the node runner ---

REQUEST = JobRequest(name="thesis", login="ada", user="ada", uid=1234, gid=1234, image="img",
                     workspace="/shared/ada/thesis", gpu_count=1, gpu_type="1g.10gb", cpus=1, memory_mb=256)


def test_the_container_gets_exactly_the_gpus_slurm_allocated():
    options = node.create_options(REQUEST, "41", {"CUDA_VISIBLE_DEVICES": "2", "SLURM_JOB_ID": "41"},
                                  "2026-12-01T00:00:00Z", nvidia_runtime=False)
    assert options["environment"]["CUDA_VISIBLE_DEVICES"] == "2"
    assert options["environment"]["NVIDIA_VISIBLE_DEVICES"] == "2"
    assert options["labels"]["ds01.slurm.job"] == "41" and options["labels"]["ds01.gpu.slots"] == ""
    assert options["user"] == "1234:1234" and options["mem_limit"] == 256 * 2**20
    assert options["volumes"] == {"/shared/ada/thesis": {"bind": "/workspace", "mode": "rw"}}
    assert "device_requests" not in options


def test_the_node_container_gets_home_and_a_port_as_on_one_server():
    options = node.create_options(REQUEST, "41", {"SLURM_JOB_ID": "41"}, "2026-12-01T00:00:00Z",
                                  nvidia_runtime=False, home="/home/ada", port=20007)
    assert options["environment"]["HOME"] == "/home/ada" and options["working_dir"] == "/workspace"
    assert options["ports"] == {"8888/tcp": ("127.0.0.1", 20007)} and options["labels"]["ds01.port"] == "20007"
    plain = node.create_options(REQUEST, "41", {"SLURM_JOB_ID": "41"}, "2026-12-01T00:00:00Z", nvidia_runtime=False)
    assert plain["environment"]["HOME"] == "/tmp"  # not an image DS01 built: as on one server, never /workspace


def test_the_runner_takes_home_from_the_image_label_and_a_port_under_the_ports_lock(monkeypatch, tmp_path):
    monkeypatch.setattr("ds01common.events.record", lambda *args, **kwargs: None)
    engine = FakeEngine(images=())
    engine.add_image("sha256:" + "ab" * 32, ["img"], labels={"ds01.home": "/home/ada", "ds01.managed": "true"})
    engine.add("taken", {"ds01.port": "20000"})
    made = {}
    stopping = threading.Event()

    def say(line):
        container = engine.by_name[REQUEST.docker_name]  # as created, before the job's end removes it
        made.update(container.options, labels=container.labels)
        stopping.set()
    code = node.run_job(engine, REQUEST, {"SLURM_JOB_ID": "41"}, log_dir=None, stopping=stopping,
                        say=say, state_dir=str(tmp_path))
    assert code == 0 and made["environment"]["HOME"] == "/home/ada" and made["working_dir"] == "/workspace"
    port = int(made["labels"]["ds01.port"])
    assert 20000 < port <= 29999 and made["ports"] == {"8888/tcp": ("127.0.0.1", port)}  # 20000 is taken


def test_a_cpu_only_job_gets_no_gpu_variables():
    assert node.container_environment({"SLURM_JOB_ID": "7"}) == {}


def test_with_the_nvidia_runtime_the_node_numbering_goes_to_docker_and_the_container_counts_from_0():
    job = {"SLURM_JOB_GPUS": "2,3", "CUDA_VISIBLE_DEVICES": "0,1"}  # cgroup-renumbered inside the job
    assert node.container_environment(job, nvidia_runtime=True) == {
        "CUDA_VISIBLE_DEVICES": "0,1", "NVIDIA_VISIBLE_DEVICES": "2,3"}
    options = node.create_options(REQUEST, "41", job, "2026-12-01T00:00:00Z", nvidia_runtime=True)
    assert options["device_requests"][0].device_ids == ["2", "3"]
    mig = {"SLURM_JOB_GPUS": "MIG-abc", "CUDA_VISIBLE_DEVICES": "MIG-abc"}
    assert node.container_environment(mig, nvidia_runtime=True)["CUDA_VISIBLE_DEVICES"] == "MIG-abc"


def test_the_runner_removes_the_container_when_the_job_ends(monkeypatch):
    monkeypatch.setattr("ds01common.events.record", lambda *args, **kwargs: None)
    engine = FakeEngine(images=("img",))
    stopping = threading.Event()
    lines = []

    def say(line):
        lines.append(line)
        stopping.set()  # as if scancel arrived right after the container started

    code = node.run_job(engine, REQUEST, {"SLURM_JOB_ID": "41", "CUDA_VISIBLE_DEVICES": "0"}, log_dir=None,
                        stopping=stopping, say=say)
    (line,) = lines
    assert code == 0 and line.startswith("DS01-READY ") and engine.calls["start"] == 1
    assert engine.calls["remove"] == 1 and not engine.by_name  # started, then removed at the job's end
