"""containers.py without Docker: the fake engine, and the real allocator on simulated GPUs."""

import os

import pytest
from ds01common import container_listing, container_spec, containers, identity, inventory, names
from ds01common.errors import Ds01Error, NotFound, PermissionDenied, ResourcesUnavailable, UsageError
from lifecycle_host import GENEROUS, make_host

IMAGE = "ds01-test/busybox:latest"
MIG_1_0 = inventory.simulated_uuid(1, 0)


@pytest.fixture
def world(ds01_env):
    return make_host(ds01_env, {"defaults": {**GENEROUS, "max_cpus": 1.5, "memory": "2g", "shm_size": "64m",
                                             "pids_limit": 99}})


def create(world, name="demo", user="alice", **options):
    options.setdefault("image", IMAGE)
    return containers.create(world.engine, world.config, world.user(user), name,
                             state_dir=world.state, log_dir=world.log, **options)


def test_create_applies_limits_identity_workspace_and_labels(world):
    result = create(world)
    alice = world.alice
    container = world.engine.by_name[f"demo._.{alice.uid}"]
    options = container.options
    assert options["mem_limit"] == options["memswap_limit"] == 2 * 1024 ** 3
    assert options["nano_cpus"] == 1_500_000_000 and options["shm_size"] == 64 * 1024 ** 2
    assert options["pids_limit"] == 99
    assert options["user"] == f"{alice.uid}:{alice.gid}" and options["working_dir"] == "/workspace"
    assert options["environment"]["HOME"] == "/tmp"  # not an image DS01 built: a temporary home, never /workspace
    assert options["environment"]["CUDA_VISIBLE_DEVICES"] == MIG_1_0  # a MIG slot before a whole GPU
    assert options["privileged"] is False and options["network_mode"] == "bridge" and options["init"] is True
    assert "device_requests" not in options  # no NVIDIA runtime on this engine
    workspace = world.workspaces / "demo"
    assert workspace.is_dir() and options["volumes"] == {str(workspace): {"bind": "/workspace", "mode": "rw"}}
    labels = container.labels
    assert labels["ds01.managed"] == "true" and labels["ds01.user"] == "alice"
    assert labels["ds01.uid"] == str(alice.uid) and labels["ds01.project"] == "demo"
    assert labels["ds01.gpu.slots"] == "1:0" and labels["ds01.gpu.uuids"] == MIG_1_0
    assert labels["ds01.workspace"] == str(workspace) and labels["ds01.created_at"].endswith("Z")
    assert result["gpus"] == ["1:0"] and result["status"] == "created"
    assert world.held() == {"1:0": f"demo._.{alice.uid}"}


def test_gpus_reach_docker_as_device_requests_only_with_the_nvidia_runtime(world):
    world.engine.nvidia = True
    create(world)
    (request,) = world.engine.by_name[f"demo._.{world.alice.uid}"].options["device_requests"]
    assert request["Driver"] == "nvidia" and request["DeviceIDs"] == [MIG_1_0]


def test_with_slices_enabled_the_container_runs_under_the_users_slice(world):
    world.reconfigure({"slices": {"enabled": True}})
    create(world)
    parent = world.engine.by_name[f"demo._.{world.alice.uid}"].options["cgroup_parent"]
    assert parent.endswith("-alice.slice") and parent.startswith("/ds01.slice/")


def test_without_slices_and_without_gpus_the_engine_is_not_asked_for_its_info(world):
    world.engine.info = lambda: pytest.fail("docker info asked for nothing")
    create(world, cpu_only=True)
    assert "cgroup_parent" not in world.engine.by_name[f"demo._.{world.alice.uid}"].options


def test_cpu_only_asks_the_allocator_for_no_slot(world):
    result = create(world, cpu_only=True)
    assert result["gpus"] == []
    assert world.held() == {} and world.pending() == {}


def test_a_failed_create_gives_the_reservation_back(world):
    create(world)
    with pytest.raises(Ds01Error, match="already exists"):
        create(world, gpus=1)
    assert world.held() == {"1:0": f"demo._.{world.alice.uid}"} and world.pending() == {}  # "0" given back


def test_a_container_that_vanishes_after_create_is_not_reported_created(world, monkeypatch):
    engine = world.engine
    real_get = engine.containers.get
    monkeypatch.setattr(engine.containers, "get", lambda key: (_ for _ in ()).throw(
        __import__("docker").errors.NotFound("gone")) if len(key) == 64 else real_get(key))
    with pytest.raises(NotFound):
        create(world)
    assert engine.by_name == {} and world.held() == {} and world.pending() == {}


def test_the_default_image_is_the_project_image_and_its_absence_says_how_to_build_one(world):
    with pytest.raises(NotFound, match="image-create demo"):
        create(world, image=None)
    world.engine.image_store["ds01-alice/demo:latest"] = {}
    assert create(world, image=None)["image"] == "ds01-alice/demo:latest"


def test_an_explicit_image_that_is_nowhere_is_one_clear_error(world):
    with pytest.raises(NotFound, match="ds01-test/absent:1 is not on this server"):
        create(world, image="ds01-test/absent:1")


def test_cpu_only_with_gpus_is_a_usage_error(world):
    with pytest.raises(UsageError):
        create(world, cpu_only=True, gpus=1)


@pytest.mark.parametrize("bad", ["Demo", "a/b", "..", "x._.1", "a b", ""])
def test_bad_names_are_refused_before_anything_happens(world, bad):
    with pytest.raises(Ds01Error, match="lowercase"):
        create(world, name=bad)
    assert world.engine.calls["create"] == 0


def test_the_workspace_is_made_for_the_user_when_an_admin_creates_it(world, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("chown needs root")
    nobody = identity.lookup_user("nobody")
    user = identity.User("nobody", "nobody", nobody.uid, nobody.gid, str(tmp_path / "nobody-home"))
    home = tmp_path / "nobody-home"
    home.mkdir()
    os.chown(home, nobody.uid, nobody.gid)
    path = container_spec.prepare_workspace(world.config, user, "proj", workspace=str(home / "ws" / "proj"))
    assert path.stat().st_uid == nobody.uid and path.parent.stat().st_uid == nobody.uid


def test_a_workspace_outside_the_users_home_and_workspace_root_is_refused_with_exit_4(world, tmp_path):
    from ds01common.errors import PermissionDenied

    nobody = identity.lookup_user("nobody")
    user = identity.User("nobody", "nobody", nobody.uid, nobody.gid, str(tmp_path / "nobody-home"))
    with pytest.raises(PermissionDenied, match="not under"):
        container_spec.prepare_workspace(world.config, user, "proj", workspace="/etc")
    assert not (tmp_path / "etc").exists()


def test_another_users_container_of_the_same_name_is_invisible_and_mine_can_be_made(world):
    create(world, user="bob")
    with pytest.raises(NotFound, match="no container named demo: see `container-list`") as caught:
        containers.find(world.engine, world.alice, "demo")
    assert caught.value.exit_code == 1
    create(world, user="alice")
    assert containers.find(world.engine, world.alice, "demo").labels["ds01.user"] == "alice"
    assert containers.find(world.engine, world.bob, "demo").labels["ds01.user"] == "bob"


def test_naming_another_users_container_by_docker_name_or_id_is_permission_denied(world):
    theirs = create(world, user="bob")
    for explicit in (theirs["docker_name"], theirs["id"], theirs["id"][:12]):
        with pytest.raises(PermissionDenied, match="belongs to bob") as caught:
            containers.find(world.engine, world.alice, explicit)
        assert caught.value.exit_code == 4
    mine = create(world, name="mine")
    assert containers.find(world.engine, world.alice, mine["docker_name"]).id == mine["id"]
    assert containers.find(world.engine, world.alice, mine["id"][:12]).id == mine["id"]


def test_a_non_ds01_container_with_the_name_is_not_yours(world):
    world.engine.add(f"demo._.{world.alice.uid}", labels={})
    with pytest.raises(PermissionDenied, match="not a DS01 container"):
        containers.find(world.engine, world.alice, "demo")
    world.engine.by_name.clear()
    world.engine.add("demo", labels={"maintainer": "x"})
    with pytest.raises(NotFound):  # someone's plain `docker run --name demo` is not what the user meant
        containers.find(world.engine, world.alice, "demo")


def test_a_missing_container_is_not_found(world):
    with pytest.raises(NotFound, match="no container named ghost"):
        containers.find(world.engine, world.alice, "ghost")


def test_listing_is_one_engine_call_in_the_contract_shape(world):
    for index in range(5):
        create(world, name=f"c{index}", cpu_only=True)
    create(world, name="theirs", user="bob", cpu_only=True)
    world.engine.calls.clear()
    items = container_listing.list_containers(world.engine, world.alice)
    assert world.engine.calls["list"] == 1 and world.engine.calls["inspect"] == 0
    assert [item["name"] for item in items] == [f"c{index}" for index in range(5)]
    assert set(items[0]) == {"name", "user", "status", "image", "gpus", "created", "port"}
    assert len({item["port"] for item in items}) == 5  # each container has its own forwarded port
    assert len(container_listing.list_containers(world.engine)) == 6


def test_start_failure_from_lack_of_memory_is_exit_3(world):
    create(world)
    world.engine.fail_start = "cannot allocate memory"
    with pytest.raises(ResourcesUnavailable):
        containers.start(world.engine, world.alice, "demo", state_dir=world.state, log_dir=world.log)


def test_a_start_refused_because_the_limit_is_below_what_the_container_needs_is_exit_3(world):
    create(world)
    world.engine.fail_start = ("OCI runtime create failed: runc create failed: unable to start container "
                                  "process: container init was OOM-killed (memory limit too low?): unknown")
    with pytest.raises(ResourcesUnavailable, match="OOM-killed"):
        containers.start(world.engine, world.alice, "demo", state_dir=world.state, log_dir=world.log)


def test_a_container_that_dies_of_memory_right_after_starting_is_exit_3(world, monkeypatch):
    create(world)
    container = world.engine.by_name[f"demo._.{world.alice.uid}"]

    def start_then_die():
        container._set("exited")
        container.attrs["State"].update(OOMKilled=True, ExitCode=137)
    monkeypatch.setattr(container, "start", start_then_die)
    with pytest.raises(ResourcesUnavailable, match="demo ran out of memory on start"):
        containers.start(world.engine, world.alice, "demo", state_dir=world.state, log_dir=world.log)


def test_deploy_starts_the_container_it_created_without_looking_it_up_again(world):
    result = containers.deploy(world.engine, world.config, world.alice, "demo", image=IMAGE,
                               cpu_only=True, state_dir=world.state, log_dir=world.log)
    assert result["status"] == "running" and "container" not in result
    # Two inspections: create's check that the container exists and start's reload; no third by name.
    assert world.engine.calls["start"] == 1 and world.engine.calls["inspect"] == 2


def test_a_deploy_with_image_looks_it_up_once_for_the_check_the_choice_and_home(world):
    containers.deploy(world.engine, world.config, world.alice, "demo", image=IMAGE, cpu_only=True,
                      state_dir=world.state, log_dir=world.log)
    # security.check_image's inspect serves the choice, and HOME inside is read from it.
    assert world.engine.calls["image_inspect"] == 1


def test_a_deploy_of_the_projects_own_image_looks_it_up_once(world):
    own = names.image_name("alice", "demo", uid=world.alice.uid)
    world.engine.add_image(own)
    result = containers.deploy(world.engine, world.config, world.alice, "demo", cpu_only=True,
                               state_dir=world.state, log_dir=world.log)
    assert result["image"] == own and world.engine.calls["image_inspect"] == 1


def test_stop_waits_the_given_seconds_and_leaves_a_stopped_container_alone(world):
    create(world)
    containers.start(world.engine, world.alice, "demo", state_dir=world.state, log_dir=world.log)
    containers.stop(world.engine, world.alice, "demo", timeout=3, log_dir=world.log)
    containers.stop(world.engine, world.alice, "demo", timeout=5, log_dir=world.log)
    assert world.engine.stop_timeouts == [3]


def test_a_deploy_that_cannot_start_leaves_nothing_behind(world):
    world.engine.fail_start = "OCI runtime create failed"
    with pytest.raises(Ds01Error, match="OCI runtime"):
        containers.deploy(world.engine, world.config, world.alice, "demo", image=IMAGE,
                          state_dir=world.state, log_dir=world.log)
    assert world.engine.by_name == {}
    assert world.held() == {}


def test_a_running_container_is_removed_only_with_force(world):
    create(world)
    containers.start(world.engine, world.alice, "demo", state_dir=world.state, log_dir=world.log)
    arguments = dict(state_dir=world.state, log_dir=world.log)
    with pytest.raises(Ds01Error, match="--force"):
        containers.remove(world.engine, world.alice, "demo", **arguments)
    result = containers.remove(world.engine, world.alice, "demo", force=True, **arguments)
    assert result["gpus"] == ["1:0"] and world.held() == {}


def test_retire_saves_changes_frees_the_gpu_and_keeps_the_workspace(world):
    create(world)
    containers.start(world.engine, world.alice, "demo", state_dir=world.state, log_dir=world.log)
    workspace = world.workspaces / "demo"
    (workspace / "notes.txt").write_text("keep me")
    result = containers.retire(world.engine, world.config, world.alice, "demo", save_changes=True,
                               state_dir=world.state, log_dir=world.log)
    assert result["image"].startswith("ds01-alice/demo:") and result["image"] in world.engine.image_store
    assert result["gpus"] == ["1:0"] and world.engine.by_name == {}
    assert (workspace / "notes.txt").read_text() == "keep me"
    assert world.held() == {}


def test_cleanup_removes_only_stopped_containers_and_frees_their_slots(world):
    create(world, name="old")
    create(world, name="live", cpu_only=True)
    containers.start(world.engine, world.alice, "live", state_dir=world.state, log_dir=world.log)
    arguments = dict(state_dir=world.state, log_dir=world.log)
    assert [item["name"] for item in containers.cleanup(world.engine, world.alice, dry_run=True,
                                                        **arguments)] == ["old"]
    assert len(world.engine.by_name) == 2
    assert [item["name"] for item in containers.cleanup(world.engine, world.alice, **arguments)] == ["old"]
    assert list(world.engine.by_name) == [f"live._.{world.alice.uid}"]
    assert world.held() == {}
