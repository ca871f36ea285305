"""The single-server path stays as it was: only a config with `cluster: {scheduler: slurm}`
sends the container commands to the Slurm backend, and container-list decides that from the
file's text without parsing YAML."""

from ds01common import backend
from ds01common import config as config_module
from helpers import write_config


def test_a_config_without_cluster_keeps_one_server(ds01_env):
    assert not backend.config_mentions_cluster()
    assert not backend.is_cluster(config_module.load())


def test_a_cluster_section_sends_commands_to_slurm(ds01_env):
    write_config(ds01_env, {"cluster": {"scheduler": "slurm", "partition": "gpu"}})
    assert backend.config_mentions_cluster()
    assert backend.is_cluster(config_module.load())


def test_a_commented_out_cluster_line_is_not_a_cluster(ds01_env):
    ds01_env["config"].write_text(ds01_env["config"].read_text() + "\n# cluster: {scheduler: slurm}\n")
    assert not backend.config_mentions_cluster()


def test_the_slurm_backend_gets_the_contexts_environment_and_clock(ds01_env):
    from ds01common import cli
    from ds01common.identity import current_user
    from fakes.clock import FakeClock

    write_config(ds01_env, {"cluster": {"scheduler": "slurm", "slurm_conf": "/etc/lab/slurm.conf"}})
    me, clock = current_user(), FakeClock()
    context = cli.Context(caller=me, clock=clock, environment={"PATH": "/opt/slurm/bin", "LANG": "C.UTF-8"})
    slurm_backend = backend.for_command(context)
    assert slurm_backend is not None and slurm_backend.clock is clock
    assert slurm_backend.tools.environment() == {"PATH": "/opt/slurm/bin", "LANG": "C.UTF-8",
                                                 "SLURM_CONF": "/etc/lab/slurm.conf"}
