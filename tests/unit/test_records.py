"""records.py: the typed records that replace loose dicts between modules."""

import dataclasses

import pytest
from ds01common import config as config_module
from ds01common.records import Limits


def test_limits_has_exactly_the_config_limit_keys_plus_group_and_reason():
    assert [field.name for field in dataclasses.fields(Limits)] == [*config_module.LIMIT_KEYS, "group", "reason"]


def test_limits_are_frozen_so_no_caller_can_change_another_callers_limits():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Limits().memory = 1  # type: ignore[misc]


def test_a_misspelt_limit_key_is_an_error_not_unlimited():
    with pytest.raises(TypeError, match="max_mig_instance"):
        Limits.from_mapping({"max_mig_instance": 1})
    with pytest.raises(KeyError):
        Limits().value("max_mig_instance")


def test_keys_a_mapping_leaves_out_take_the_defaults_none_meaning_unlimited():
    limits = Limits.from_mapping({"max_mig_instances": 2, "allow_full_gpu": True})
    assert limits.max_mig_instances == 2 and limits.allow_full_gpu is True
    assert limits.max_gpu_equivalents is None and limits.priority == 0


def test_as_dict_lists_every_field_in_declaration_order():
    limits = Limits(memory=1024, group="student")
    assert list(limits.as_dict()) == [field.name for field in dataclasses.fields(Limits)]
    assert limits.as_dict()["memory"] == 1024 and limits.value("group") == "student"
