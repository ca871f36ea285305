"""The config schema table is the one source: validation, defaults, limit descriptions and the docs."""

import math
from pathlib import Path

import pytest
import yaml
from ds01common import config, config_schema, docs, limits

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("setting", config_schema.SETTINGS, ids=lambda setting: setting.path)
def test_every_default_is_a_valid_value_of_its_own_key(setting):
    setting.parse(setting.default)


@pytest.mark.parametrize("setting", config_schema.SETTINGS, ids=lambda setting: setting.path)
def test_every_key_has_a_description_and_a_type_for_the_docs(setting):
    assert setting.description and setting.kind


def test_every_limit_has_a_short_label_for_the_limits_file():
    assert all(setting.label for setting in config_schema.LIMITS)


def test_a_key_added_to_the_table_is_validated_without_other_code(monkeypatch, tmp_path):
    extra = config_schema.Setting("slices", "weight", config_schema.count, 1, "count", "test-only key")
    monkeypatch.setattr(config_schema, "SETTINGS", config_schema.SETTINGS + (extra,))
    problems = config.validate({"slices": {"weight": -1}}, tmp_path / "c.yaml")
    assert problems == [f"{tmp_path / 'c.yaml'}: slices.weight: must not be negative, got -1"]


def test_a_section_accessor_fills_in_the_tables_defaults(tmp_path):
    loaded = config.Config({"slices": {"enabled": True}}, tmp_path / "c.yaml")
    assert loaded.slices == {"enabled": True, "parent": "ds01.slice"}
    assert loaded.base_image == config_schema.lookup("images.base").default


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_not_a_number_and_infinity_are_refused_where_a_number_is_expected(value, tmp_path):
    problems = config.validate({"defaults": {"max_cpus": value}}, tmp_path / "c.yaml")
    assert len(problems) == 1 and "finite number" in problems[0]


def test_compound_values_report_each_inner_problem_at_its_own_path(tmp_path):
    raw = {"gpus": {"simulate": [{"model": "x", "mig": ["9g.1gb"]}, "nonsense"]}}
    problems = config.validate(raw, tmp_path / "c.yaml")
    assert [problem.split(": ")[1] for problem in problems] == ["gpus.simulate[0].mig[0]", "gpus.simulate[1]"]


def test_the_limit_descriptions_get_resource_limits_prints_come_from_the_table():
    assert limits.DESCRIPTIONS == {setting.name: setting.description for setting in config_schema.LIMITS}


def test_every_key_of_the_shipped_config_is_in_the_schema():
    shipped = yaml.safe_load((ROOT / "config" / "resource-limits.yaml").read_text())
    for name, value in shipped.items():
        assert name in config_schema.TOP_LEVEL_KEYS, name
        if name in config_schema.SECTIONS:
            assert set(value) <= set(config_schema.section(name)), name


@pytest.mark.parametrize("document", ["README.md", "docs/config.md"])
def test_the_generated_blocks_of_the_docs_are_current(document):
    text = (ROOT / document).read_text()
    assert docs.blocks_in(text), f"{document} lost its generated blocks"
    assert docs.render(text) == text, f"{document} is out of date: run scripts/update-docs"


def test_the_readme_reference_names_every_key():
    text = (ROOT / "README.md").read_text()
    assert all(f"`{setting.path}`" in text for setting in config_schema.SETTINGS)


@pytest.mark.parametrize("roots", [["datasets"], ["/"], ["/srv/../etc"], "/srv/datasets", [7]],
                         ids=["relative", "slash", "dotdot", "not-a-list", "not-a-path"])
def test_data_roots_must_be_plain_absolute_directories_other_than_slash(roots, tmp_path):
    problems = config.validate({"data_roots": roots}, tmp_path / "c.yaml")
    assert len(problems) == 1 and "data_roots" in problems[0] and "absolute directory path" in problems[0]


def test_data_roots_default_to_none_and_read_back_as_written(tmp_path):
    assert config.Config({}, tmp_path / "c.yaml").setting("data_roots") == []
    assert config.validate({"data_roots": ["/srv/datasets", "/scratch/shared/"]}, tmp_path / "c.yaml") == []
