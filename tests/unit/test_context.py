"""cli.Context: the one object a command builds and passes down (config, user, engine, clock, GPUs)."""

from ds01common import cli
from ds01common.clock import SYSTEM
from fakes.clock import FakeClock
from fakes.fake_config import SimConfig


def test_the_context_hands_down_the_clock_it_was_given_and_the_system_clock_otherwise():
    fake = FakeClock()
    assert cli.Context(clock=fake).clock is fake
    assert cli.Context().clock is SYSTEM


def test_the_inventory_comes_from_the_contexts_config_and_is_discovered_once():
    context = cli.Context(config=SimConfig([{"memory": "80g", "mig": ["3g.40gb", "3g.40gb"]}]))
    first = context.inventory
    assert [slot.id for slot in first.slots] == ["0:0", "0:1"] and first.simulated
    assert context.inventory is first


def test_the_fake_clock_moves_only_when_told_and_sleeping_moves_it():
    woken = []
    clock = FakeClock(start=100.0, on_sleep=lambda current: woken.append(current.time()))
    assert clock.time() == 100.0
    clock.sleep(2.5)
    clock.advance(1)
    assert (clock.time(), woken, clock.sleeps) == (103.5, [102.5], [2.5])


def test_the_context_reads_the_environment_once_unless_it_is_given_one(monkeypatch):
    monkeypatch.setenv("DS01_TEST_VARIABLE", "before")
    context = cli.Context()
    monkeypatch.setenv("DS01_TEST_VARIABLE", "after")
    assert context.environment["DS01_TEST_VARIABLE"] == "before"
    assert cli.Context(environment={"PATH": "/bin"}).environment == {"PATH": "/bin"}


def test_the_contexts_engine_is_where_its_environment_says():
    assert cli.Context(environment={"DOCKER_HOST": "unix:///run/lab/docker.sock"}).docker.raw_socket() == \
        "/run/lab/docker.sock"
    assert cli.Context(environment={}).docker.raw_socket() == "/var/run/docker.sock"
    assert cli.Context(environment={"DOCKER_HOST": "tcp://10.0.0.5:2376"}).docker.raw_socket() is None
