"""Dispatchers: `image create` finds `image-create` beside it; unknown subcommands are usage errors."""

import os

import pytest
from ds01common import dispatch
from ds01common.errors import UsageError


@pytest.fixture
def bin_dir(tmp_path):
    for name, doc in (("image-create", "Build an image."), ("image-list", "List images."),
                      ("container-list", "Another family.")):
        path = tmp_path / name
        path.write_text(f'"""{doc}"""\nTIER = "atomic"\n')
        path.chmod(0o755)
    os.symlink("image-list", tmp_path / "image-ls")  # an alias is not a separate subcommand
    (tmp_path / "image-notes").write_text('"""Not executable."""\n')
    return tmp_path


def test_subcommands_are_the_executable_non_alias_scripts_with_the_prefix(bin_dir):
    assert dispatch.subcommands("image", bin_dir) == {"create": "Build an image.", "list": "List images."}


def test_resolve_gives_the_script_for_a_known_subcommand(bin_dir):
    assert dispatch.resolve("image", "create", bin_dir) == bin_dir / "image-create"


def test_an_unknown_subcommand_is_a_usage_error_listing_the_choices(bin_dir):
    with pytest.raises(UsageError, match="unknown subcommand 'build': choose from create, list"):
        dispatch.resolve("image", "build", bin_dir)


def test_the_subcommand_listing_aligns_descriptions(bin_dir):
    text = dispatch.describe_subcommands("image", bin_dir)
    assert text.splitlines() == ["subcommands:", "  create  Build an image.", "  list    List images."]
