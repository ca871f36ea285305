"""Issue 9's small things, without Docker: per-user queue names, deploy as the docs show it,
a vanished GPU, retire logged as a retire, no workspace left by a refused create, a quiet
`| head`, the demo's label scope, guided reruns that ask only what they use."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from ds01common import containers, events, gpuqueue, guided, identity, ledger, policy, projects
from ds01common.errors import NotFound, PermissionDenied, ResourcesUnavailable, UsageError
from ds01common.records import Limits
from helpers import ROOT
from lifecycle_host import GENEROUS, WHOLE_GPU, make_host

IMAGE = "ds01-test/busybox:latest"


@pytest.fixture
def world(ds01_env):
    return make_host(ds01_env, {"images": {"base": IMAGE, "default": IMAGE}},
                     images=(IMAGE, "ds01-alice/thesis:experiment-42"))


def deploy(world, name, **options):
    return containers.deploy(world.engine, world.config, world.alice, name,
                             state_dir=world.state, log_dir=world.log, **options)


def test_deploy_of_a_project_image_tag_without_name_runs_on_the_projects_workspace(world):
    (world.workspaces / "thesis").mkdir(parents=True)
    result = deploy(world, None, image="ds01-alice/thesis:experiment-42")
    assert result["name"] == "thesis" and result["image"] == "ds01-alice/thesis:experiment-42"
    assert result["workspace"] == str(world.workspaces / "thesis")


def test_deploy_without_name_needs_one_of_your_project_images(world):
    with pytest.raises(UsageError, match="NAME is required"):
        deploy(world, None, image="busybox:latest")
    with pytest.raises(PermissionDenied, match="belongs to bob"):
        deploy(world, None, image="ds01-bob/thesis:latest")


def test_deploy_without_a_project_image_runs_the_default_image_and_says_so(world):
    result = deploy(world, "scratch")
    assert result["image"] == IMAGE
    assert "scratch has no image of its own" in result["notice"] and "images.default" in result["notice"]
    with pytest.raises(NotFound, match="image-create lonely"):  # create stays strict
        containers.create(world.engine, world.config, world.alice, "lonely",
                          state_dir=world.state, log_dir=world.log)


def test_project_option_mounts_an_existing_projects_workspace_under_another_name(world):
    (world.workspaces / "thesis").mkdir(parents=True)
    result = deploy(world, "thesis-eval", project="thesis", image=IMAGE)
    assert result["name"] == "thesis-eval" and result["workspace"] == str(world.workspaces / "thesis")
    assert not (world.workspaces / "thesis-eval").exists()
    with pytest.raises(NotFound, match="project-init ghost"):
        deploy(world, "other", project="ghost", image=IMAGE)


def test_a_create_refused_for_quota_leaves_no_workspace_behind(world):
    world.reconfigure({"defaults": {**GENEROUS, "max_mig_instances": 1}})
    deploy(world, "first", image=IMAGE)  # holds alice's one GPU slot
    with pytest.raises(ResourcesUnavailable):
        deploy(world, "refused", image=IMAGE)
    assert not (world.workspaces / "refused").exists()


def test_a_container_whose_slot_vanished_refuses_to_start_naming_it_and_wait_recreates_it(world):
    made = containers.create(world.engine, world.config, world.alice, "old", image=IMAGE,
                             state_dir=world.state, log_dir=world.log)
    assert made["gpus"] == ["1:0"]
    world.reconfigure({"gpus": {"simulate": [WHOLE_GPU]}})  # GPU 1 gone: only slot "0" is left
    with pytest.raises(containers.GpuLost, match="GPU slot 1:0, which is no longer on this host") as caught:
        containers.start(world.engine, world.alice, "old", config=world.config,
                         state_dir=world.state, log_dir=world.log)
    assert caught.value.exit_code == 3 and "container-start old --wait" in str(caught.value)
    again = containers.restart_on_new_gpu(world.engine, world.config, world.alice, "old", wait=5,
                                          state_dir=world.state, log_dir=world.log)
    assert again["gpus"] == ["0"] and again["workspace"] == made["workspace"] and again["status"] == "running"


def test_a_retire_frees_its_gpu_as_a_retire_not_as_reconcile_guesswork(world):
    deploy(world, "done", image=IMAGE)
    containers.retire(world.engine, world.config, world.alice, "done",
                      state_dir=world.state, log_dir=world.log)
    (released,) = [event for event in events.read(world.log) if event.event == "gpu.release"]
    assert released.details["reason"] == "retired" and released.details["slots"] == ["1:0"]


def test_reconcile_events_name_containers_by_short_name_and_take_a_known_cause(tmp_path):
    changes = [("dropped", "0", "done._.1000", "its container is gone", "alice"),
               ("dropped", "1", "gone._.1000", "its container is gone", "alice")]
    ledger._record_changes(changes, tmp_path, {"done._.1000": ("alice", "retired")})
    recorded = [json.loads(line) for line in (tmp_path / events.EVENTS_FILE).read_text().splitlines()]
    assert [(entry["details"]["container"], entry["details"]["by"], entry["details"]["reason"])
            for entry in recorded] == [
        ("done", "alice", "retired"), ("gone", "reconcile", "its container is gone")]


def test_gpu_queue_cancel_takes_your_container_name_and_never_sees_anothers(tmp_path):
    alice = identity.User("alice", "alice", 1000, 1000, "/home/alice")
    bob = identity.User("bob", "bob", 1001, 1001, "/home/bob")
    limits = Limits(priority=10, max_mig_instances=None, allow_full_gpu=True)
    gpuqueue.join(tmp_path, alice, "train._.1000", policy.Request(1), limits)
    theirs = gpuqueue.join(tmp_path, bob, "train._.1001", policy.Request(1), limits)
    with pytest.raises(NotFound):
        gpuqueue.cancel(tmp_path, alice, "nothing")
    [removed] = gpuqueue.cancel(tmp_path, alice, "train")
    assert removed.user == "alice"
    with pytest.raises(NotFound):  # bob's `train` is not alice's to see by name
        gpuqueue.cancel(tmp_path, alice, "train")
    with pytest.raises(PermissionDenied):  # ... but naming his entry's id is explicit
        gpuqueue.cancel(tmp_path, alice, theirs.token)


def run_python(code, **env):
    script = f"import sys; sys.path[:0] = [{str(ROOT / 'lib')!r}]\n" + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)


@pytest.mark.parametrize("lines", [5, 200_000])  # buffered until exit / cut while writing
def test_a_listing_piped_into_head_is_silent_with_exit_0(lines, tmp_path):
    code = f"""
from ds01common import cli
def main(argv):
    for number in range({lines}):
        print("row", number)
    return 0
cli.run(main, [])
"""
    script = tmp_path / "listing.py"
    script.write_text(f"import sys; sys.path[:0] = [{str(ROOT / 'lib')!r}]\n" + code)
    shell = f"{sys.executable} {script} | head -n 1 >/dev/null; echo ${{PIPESTATUS[0]}}"
    result = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "0", result.stderr
    assert result.stderr == ""


def test_a_label_scope_keeps_a_demo_to_its_own_containers():
    code = ("from ds01common import labels\n"
            "print(labels.MANAGED_FILTER['label'], labels.is_managed({'ds01.managed': 'true'}))")
    scoped = run_python(code, DS01_LABEL_SCOPE="demo-x")
    assert scoped.stdout.split() == ["ds01.managed=demo-x", "False"], scoped.stderr
    plain = run_python(code, DS01_LABEL_SCOPE="")
    assert plain.stdout.split() == ["ds01.managed=true", "True"], plain.stderr


def test_guided_rerun_on_an_existing_project_does_not_ask_for_a_template(world, monkeypatch):
    project = world.workspaces / "thesis"
    project.mkdir(parents=True)
    (project / "Dockerfile").write_text("FROM busybox\n")
    (project / ".git").mkdir()
    asked = []
    monkeypatch.setattr(guided.prompts, "require_terminal", lambda *args: None)
    monkeypatch.setattr(guided.prompts, "explain", lambda text: asked.append(("explain", text)))
    monkeypatch.setattr(guided.prompts, "select", lambda question, *args, **kwargs: asked.append(question))
    monkeypatch.setattr(guided.prompts, "text", lambda question, *args, **kwargs: asked.append(question) or "")
    monkeypatch.setattr(guided.prompts, "confirm", lambda question, *args, **kwargs: asked.append(question) or False)
    options = guided.ask_project(projects.ProjectOptions(name="thesis"), world.config,
                                 workspace=world.workspaces)
    questions = [item for item in asked if isinstance(item, str)]
    assert questions and not any(word in question.lower() for question in questions
                                 for word in ("template", "packages", "git"))
    assert options.template is None and options.packages == []
    assert any("already has a Dockerfile" in item[1] for item in asked if isinstance(item, tuple))


def test_project_launch_with_wait_recreates_a_project_container_whose_gpu_vanished(world, monkeypatch):
    from types import SimpleNamespace

    (world.workspaces / "old").mkdir(parents=True)
    made = containers.create(world.engine, world.config, world.alice, "old", image=IMAGE,
                             workspace=str(world.workspaces / "old"),
                             state_dir=world.state, log_dir=world.log)
    monkeypatch.setattr(projects.image_store, "image_exists", lambda *args: True)
    monkeypatch.setattr(world.engine.images, "get", lambda name: SimpleNamespace(id=name, labels={}))
    world.engine.image_store["ds01-alice/old:latest"] = {}

    def launch(wait):
        return projects.launch(world.engine, world.config, world.alice, "old", wait=wait,
                               state_dir=world.state, log_dir=world.log)
    assert made["gpus"] == ["1:0"]
    world.reconfigure({"gpus": {"simulate": [WHOLE_GPU]}})  # GPU 1 gone: only slot "0" is left
    with pytest.raises(containers.GpuLost, match="1:0"):
        launch(None)
    result = launch(5)
    assert result["gpus"] == ["0"] and "lost GPU slot 1:0" in result["notice"]
    assert containers.find(world.engine, world.alice, "old").labels["ds01.workspace"] == made["workspace"]
