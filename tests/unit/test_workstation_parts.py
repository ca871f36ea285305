"""The parts of the container workstation that need no engine: ports, the home inside, the
server's name, waiting for JupyterLab, the devcontainer file."""

import pytest
from ds01common import inside, laptop, ports
from ds01common.errors import Ds01Error, ResourcesUnavailable
from fakes.clock import FakeClock


def test_the_first_port_neither_labelled_nor_published_nor_busy_on_the_host_is_chosen():
    entries = [{"Labels": {"ds01.port": "20000"}}, {"Labels": {}, "Ports": [{"PublicPort": 20001}]},
               {"Labels": {"ds01.port": "junk"}}]
    taken = ports.ports_taken(entries)
    assert taken == {20000, 20001}
    assert ports.choose(taken, ports.PortRange(20000, 20010), is_free=lambda port: port != 20002) == 20003


def test_a_full_port_range_is_exit_3_saying_what_to_do():
    with pytest.raises(ResourcesUnavailable, match="retire containers") as raised:
        ports.choose({20000, 20001}, ports.PortRange(20000, 20001))
    assert raised.value.exit_code == 3


@pytest.mark.parametrize("text", ["20000", "30000-20000", "80-90", "a-b", "20000-70000"])
def test_a_bad_port_range_is_refused(text):
    with pytest.raises(Ds01Error):
        ports.parse_range(text)


def test_the_forward_is_bound_to_the_loopback_only():
    assert ports.publish_options(20005) == {"ports": {"8888/tcp": ("127.0.0.1", 20005)}}


def test_images_ds01_built_give_the_home_they_name_others_a_temporary_home_with_a_notice():
    own = inside.for_image("ds01-alice/p:latest", {"ds01.home": "/home/alice"})
    assert own.home == "/home/alice" and own.notice is None
    for labels in ({}, {"ds01.home": "/workspace"}, {"ds01.home": "relative"}):
        foreign = inside.for_image("python:3.12", labels)
        assert foreign.home == "/tmp" and "not built by DS01" in foreign.notice
        assert "image-create PROJECT --base python:3.12" in foreign.notice
    older = inside.for_image("ds01-alice/p:latest", {"ds01.managed": "true", "ds01.project": "p"})
    assert older.home == "/tmp" and "image-update p" in older.notice


def test_the_server_name_is_the_configured_one_else_a_real_name_never_localhost():
    assert laptop.server_name("gpu1.lab.org", fqdn=lambda: "x", hostname=lambda: "y") == "gpu1.lab.org"
    assert laptop.server_name(None, fqdn=lambda: "localhost", hostname=lambda: "gpu2") == "gpu2"
    assert laptop.server_name(None, fqdn=lambda: "gpu3.lab.org", hostname=lambda: "gpu3") == "gpu3.lab.org"
    with pytest.raises(Ds01Error, match="connect.host"):
        laptop.server_name(None, fqdn=lambda: "localhost", hostname=lambda: "localhost")


def test_waiting_for_jupyter_polls_until_it_answers_or_the_time_is_up():
    answers, clock = iter([False, False, True]), FakeClock()
    assert laptop.wait_until_answering(20000, timeout=5, probe=lambda port: next(answers), clock=clock)
    assert clock.sleeps == [0.25, 0.25]
    clock = FakeClock()
    assert not laptop.wait_until_answering(20000, timeout=1, probe=lambda port: False, clock=clock)
    assert sum(clock.sleeps) == 1.0


def test_the_devcontainer_opens_the_project_image_with_its_workspace_as_the_user():
    from ds01common.identity import User
    document = laptop.devcontainer(User("alice", "alice", 1500, 1600, "/home/alice"), "thesis", "/home/alice")
    assert document["image"] == "ds01-alice/thesis:latest" and document["workspaceFolder"] == "/workspace"
    assert document["containerUser"] == "1500:1600" and document["containerEnv"]["HOME"] == "/home/alice"
    assert "target=/workspace" in document["workspaceMount"] and document["forwardPorts"] == [8888]


def test_concurrent_creates_never_share_a_port(tmp_path):
    """Eight creators at once, each labelling its container inside the reservation (as create does)."""
    import threading

    from fakes.engine import FakeEngine

    engine = FakeEngine()
    chosen = []
    start = threading.Barrier(8)

    def slow_probe(port):
        threading.Event().wait(0.001)  # a real bind probe takes time: without the lock all pick 41000
        return True

    def create(index):
        start.wait()
        with ports.reserve(engine, tmp_path, ports.PortRange(41000, 41100), is_free=slow_probe) as port:
            engine.add(f"c{index}", {"ds01.port": str(port)})
            chosen.append(port)

    threads = [threading.Thread(target=create, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(chosen) == list(range(41000, 41008))
