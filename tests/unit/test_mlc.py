"""mlc-*: FRAMEWORK VERSION resolve to an image through images.frameworks."""

import pytest
from ds01common import config as config_module
from ds01common import mlc
from ds01common.errors import NotFound
from helpers import write_config


@pytest.fixture
def config(ds01_env):
    write_config(ds01_env, {"images": {"frameworks": {"pytorch-2.3": "pytorch/pytorch:2.3.1",
                                                      "tensorflow-2.16": "tensorflow/tensorflow:2.16.1-gpu"}}})
    return config_module.load(ds01_env["config"])


def test_a_known_pair_names_its_image_whatever_the_case(config):
    assert mlc.resolve_framework(config, "PyTorch", "2.3") == "pytorch/pytorch:2.3.1"


def test_an_unknown_pair_lists_what_exists(config):
    with pytest.raises(NotFound) as raised:
        mlc.resolve_framework(config, "pytorch", "1.0")
    assert "available: pytorch 2.3, tensorflow 2.16" in str(raised.value)


def test_no_frameworks_configured_says_so(ds01_env):
    config = config_module.load(ds01_env["config"])
    with pytest.raises(NotFound, match="none configured"):
        mlc.resolve_framework(config, "pytorch", "2.3")


def test_mlc_create_passes_the_image_workspace_data_and_gpus_on(config, monkeypatch):
    seen = {}
    monkeypatch.setattr(mlc.containers, "create", lambda *args, **kwargs: seen.update(kwargs) or {"ok": True})
    mlc.create(None, config, None, "work", "pytorch", "2.3", workspace="/w", data_dir="/d", gpus=0,
               state_dir="/s", log_dir="/l")
    assert seen["image"] == "pytorch/pytorch:2.3.1" and seen["cpu_only"] is True and seen["gpus"] == 0
    assert seen["workspace"] == "/w" and seen["data_dir"] == "/d"
    assert seen["extra_labels"] == {"ds01.mlc.framework": "pytorch-2.3"}
