"""The engine contract: the same scenarios against tests/fakes/engine.py and a real Docker engine.

Unit tests trust the fake to behave like the engine; these tests are what that trust rests on.
Each scenario runs twice, `fake` and `real`; the real half needs a Docker engine (a failure,
not a skip, under DS01_REQUIRE_DOCKER=1, as in `make test`). Containers here carry only a
contract label, never ds01.managed, so no DS01 listing running alongside ever sees them.
"""

import uuid

import docker.errors
import pytest
from ds01common import activity, dockerapi
from ds01common.errors import NotFound
from fakes.engine import FakeEngine
from helpers import TEST_IMAGE

CONTRACT_LABEL = "ds01test.contract"


@pytest.fixture(params=["fake", "real"])
def engine(request):
    """(client, run id); every container the scenario made is removed afterwards."""
    run = uuid.uuid4().hex[:10]
    client = FakeEngine() if request.param == "fake" else request.getfixturevalue("docker_client")
    yield client, run
    for container in client.containers.list(all=True, filters={"label": f"{CONTRACT_LABEL}={run}"}):
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass


def make(client, run, suffix, labels=None):
    """A created (not started) container that stays up once started."""
    return client.containers.create(TEST_IMAGE, ["sleep", "60"], name=f"ds01-contract-{run}-{suffix}",
                                     labels={CONTRACT_LABEL: run, **(labels or {})})


def names(containers):
    return sorted(container.name for container in containers)


def test_a_created_container_is_found_by_name_and_id_with_its_labels_and_status_created(engine):
    client, run = engine
    made = make(client, run, "a", {"ds01test.user": "alice"})
    for key in (made.name, made.id):
        found = client.containers.get(key)
        assert (found.id, found.name, found.status) == (made.id, f"ds01-contract-{run}-a", "created")
        assert found.labels["ds01test.user"] == "alice"


def test_listing_filters_by_label_value_and_presence_and_leaves_out_stopped_ones_unless_all(engine):
    client, run = engine
    make(client, run, "a", {"ds01test.user": "alice"})
    make(client, run, "b", {"ds01test.user": "bob"})
    mine = {"label": [f"{CONTRACT_LABEL}={run}"]}
    assert names(client.containers.list(all=True, filters=mine)) == [f"ds01-contract-{run}-a", f"ds01-contract-{run}-b"]
    alice = {"label": [f"{CONTRACT_LABEL}={run}", "ds01test.user=alice"]}
    assert names(client.containers.list(all=True, filters=alice)) == [f"ds01-contract-{run}-a"]
    present = {"label": [f"{CONTRACT_LABEL}={run}", "ds01test.user"]}
    assert len(client.containers.list(all=True, filters=present)) == 2
    assert client.containers.list(filters=mine) == []  # neither runs


def test_start_stop_and_the_states_a_listing_shows(engine):
    client, run = engine
    made = make(client, run, "a")
    made.start()
    made.reload()
    assert made.status == "running"
    assert names(client.containers.list(filters={"label": f"{CONTRACT_LABEL}={run}"})) == [made.name]
    made.stop(timeout=1)
    made.reload()
    assert made.status == "exited"


def test_stopping_a_never_started_container_leaves_it_created(engine):
    client, run = engine
    made = make(client, run, "a")
    made.stop(timeout=1)
    made.reload()
    assert made.status == "created"


def test_removing_a_running_container_needs_force_and_is_a_409_conflict_otherwise(engine):
    client, run = engine
    made = make(client, run, "a")
    made.start()
    with pytest.raises(docker.errors.APIError) as refused:
        made.remove()
    assert refused.value.status_code == 409
    assert not isinstance(dockerapi.translate(refused.value, "container a"), NotFound)
    made.remove(force=True)
    with pytest.raises(docker.errors.NotFound) as gone:
        client.containers.get(made.id)
    assert isinstance(dockerapi.translate(gone.value, "container a"), NotFound)


def test_a_second_container_of_the_same_name_is_a_409_that_reads_as_already_exists(engine):
    client, run = engine
    make(client, run, "a")
    with pytest.raises(docker.errors.APIError) as refused:
        make(client, run, "a")
    assert refused.value.status_code == 409
    assert str(dockerapi.translate(refused.value, "container a")) == "container a already exists"


def test_sparse_listing_and_the_low_level_listing_carry_the_fields_the_ledger_reads(engine):
    client, run = engine
    made = make(client, run, "a", {"ds01test.user": "alice"})
    filters = {"label": [f"{CONTRACT_LABEL}={run}"]}
    (sparse,) = client.containers.list(all=True, filters=filters, sparse=True)
    assert sparse.id == made.id
    assert sparse.attrs["Names"] == [f"/{made.name}"] and sparse.attrs["State"] == "created"
    assert sparse.attrs["Labels"]["ds01test.user"] == "alice"
    (entry,) = client.api.containers(all=True, filters=filters)
    assert (entry["Id"], entry["Names"], entry["State"]) == (made.id, [f"/{made.name}"], "created")
    assert isinstance(entry["Created"], int) and entry["Labels"][CONTRACT_LABEL] == run


def test_a_missing_container_or_image_is_not_found_in_ds01_terms(engine):
    client, run = engine
    with pytest.raises(docker.errors.NotFound) as missing:
        client.containers.get(f"ds01-contract-{run}-nothing")
    assert str(dockerapi.translate(missing.value, "container x")) == "container x not found"
    with pytest.raises(docker.errors.ImageNotFound) as no_image:
        client.images.get(f"ds01-contract/none-{run}:latest")
    assert str(dockerapi.translate(no_image.value, "ds01-contract/none")).startswith("image not found")
    assert dockerapi.get_or_none(client.images, f"ds01-contract/none-{run}:latest") is None
    assert dockerapi.get_or_none(client.images, TEST_IMAGE) is not None


def test_inspect_shows_when_a_container_started_and_finished_as_the_lifecycle_pass_reads_them(engine):
    client, run = engine
    made = make(client, run, "a")
    state = client.api.inspect_container(made.id)["State"]
    assert activity.parse_docker_time(state["StartedAt"]) is None  # never started: the zero time
    made.start()
    state = client.api.inspect_container(made.id)["State"]
    assert state["Status"] == "running" and activity.parse_docker_time(state["StartedAt"]) is not None
    made.stop(timeout=1)
    state = client.api.inspect_container(made.id)["State"]
    assert state["Status"] == "exited" and activity.parse_docker_time(state["FinishedAt"]) is not None


def test_the_dockerapi_boundary_lists_stops_and_removes_with_typed_records(engine):
    client, run = engine
    made = make(client, run, "a", {"ds01test.user": "alice"})
    made.start()
    (listed,) = dockerapi.list_sparse(client, {"label": [f"{CONTRACT_LABEL}={run}"]})
    assert (listed.id, listed.name, listed.state, listed.labels["ds01test.user"]) == \
        (made.id, made.name, "running", "alice")
    assert listed.created is not None and listed.created > 1_600_000_000
    dockerapi.stop_container(client, made.id, timeout=1)
    (listed,) = dockerapi.list_sparse(client, {"label": [f"{CONTRACT_LABEL}={run}"]})
    assert listed.state == "exited"
    dockerapi.remove_container(client, made.id)
    assert dockerapi.list_sparse(client, {"label": [f"{CONTRACT_LABEL}={run}"]}) == []
    with pytest.raises(NotFound, match="container gone not found"):
        dockerapi.remove_container(client, made.id, what="container gone")
