"""The pieces several commands share (cli.parser's argument lists, cli.print_listing, cli.confirmed,
cli.parse_with_user, commands/project_common, config_schema's problem collector): one behaviour, held once."""

import argparse
import json

import pytest
from ds01common import cli, config_schema
from ds01common.commands import project_common
from ds01common.errors import UsageError


def test_a_listing_prints_the_document_with_json_and_never_builds_the_table(capsys):
    def table():
        raise AssertionError("the table is not needed for --json")

    cli.print_listing(True, [{"name": "demo"}], table)
    assert json.loads(capsys.readouterr().out) == [{"name": "demo"}]


def test_a_listing_prints_the_table_or_the_empty_line_without_json(capsys):
    cli.print_listing(False, [], lambda: ([("demo", "running")], ("NAME", "STATUS")))
    assert capsys.readouterr().out.split() == ["NAME", "STATUS", "demo", "running"]
    cli.print_listing(False, [], lambda: ([], ("NAME",)), empty="no containers")
    assert capsys.readouterr().out == "no containers\n"


def test_yes_confirms_without_asking_and_without_a_terminal_it_is_a_usage_error_naming_yes(monkeypatch, capsys):
    monkeypatch.delenv("DS01_ASSUME_TTY", raising=False)
    assert cli.confirmed(True, "Remove demo?", "nothing removed") is True
    with pytest.raises(UsageError, match="--yes"):
        cli.confirmed(False, "Remove demo?", "nothing removed")
    assert capsys.readouterr().out == ""


def test_a_no_at_the_terminal_prints_the_refusal(monkeypatch, capsys):
    from ds01common import prompts

    monkeypatch.setattr(prompts, "confirm", lambda question, flag: False)
    assert cli.confirmed(False, "Remove demo?", "nothing removed") is False
    assert capsys.readouterr().out == "nothing removed\n"


def test_parse_with_user_gives_the_arguments_and_a_context_acting_for_user():
    parser = cli.parser("a command")
    parser.add_argument("name")
    cli.add_user_option(parser)
    args, context = cli.parse_with_user(parser, ["demo", "--user", "alice"])
    assert args.name == "demo"
    assert isinstance(context, cli.Context) and context._user_option == "alice"


def test_a_one_step_project_command_keeps_its_options_in_the_order_it_always_had():
    parser = project_common.step_parser("readme", force_help="replace an existing README.md")
    options = [action.option_strings or [action.dest] for action in parser._actions]
    assert options == [["-h", "--help"], ["project"], ["--guided"], ["--force"], ["--user"]]
    assert "--force" not in project_common.step_parser("dirs").format_help()


def test_a_one_step_project_command_without_project_or_guided_is_a_usage_error():
    args = argparse.Namespace(project=None, guided=False)
    with pytest.raises(UsageError, match="PROJECT is required"):
        project_common.fill_project(cli.Context(), args, "dir-create", "explained")


def test_a_one_step_project_command_works_out_its_explanation_from_its_context():
    seen = []

    def explanation(context):
        seen.append(context)
        return "explained"

    args, context = project_common.parse_step(project_common.step_parser("dirs"), ["demo"], "dir-create",
                                              explanation)
    assert args.project == "demo" and seen == [context]
    with pytest.raises(UsageError, match="PROJECT is required"):
        project_common.parse_step(project_common.step_parser("dirs"), [], "dir-create", "explained")


def test_a_parser_takes_its_arguments_in_order_and_an_exclusive_pair_refuses_both(capsys):
    parser = cli.parser("a command", cli.Argument("name", metavar="NAME"),
                        cli.exclusive(cli.Argument("--open", action="store_true"),
                                      cli.Argument("--background", action="store_true")),
                        cli.add_user_option)
    options = [action.option_strings or [action.dest] for action in parser._actions]
    assert options == [["-h", "--help"], ["name"], ["--open"], ["--background"], ["--user"]]
    assert parser.parse_args(["demo", "--open"]).open
    with pytest.raises(SystemExit) as refused:
        parser.parse_args(["demo", "--open", "--background"])
    assert refused.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_a_list_of_mappings_reports_every_bad_item_and_unknown_key_at_once():
    with pytest.raises(config_schema.SettingProblems) as raised:
        config_schema.exemptions([{"user": "alice", "what": "idle", "reason": "thesis", "colour": "red"},
                                  "not a mapping", {"user": "", "what": "nap", "reason": "x"}])
    places = [where for where, _ in raised.value.problems]
    assert places == ["[0].colour", "[1]", "[2].user", "[2].what"]


@pytest.mark.parametrize(("module", "access", "said"), [
    ("add_user_to_docker", "ds01-only", "added zed to the docker group; they must log out and in again "
                                        "(or run `newgrp docker`) before DS01 commands work for them"),
    ("add_user", "docker-group", "added zed to docker (docker-group mode: root-equivalent on this host); "
                                 "they must log out and in again before it applies"),
    ("add_user", "ds01-only", "added zed to ds01-users (locked mode: DS01 commands only); "
                              "they must log out and in again before it applies"),
])
def test_both_admission_commands_add_to_the_right_group_and_say_what_comes_next(ds01_env, monkeypatch, capsys,
                                                                                module, access, said):
    import importlib

    from ds01common import adminviews
    from helpers import write_config

    write_config(ds01_env, {"access": access, "users_group": "ds01-users"})
    asked = []
    monkeypatch.setattr(cli.Context, "require_admin", lambda self, what, hint="": asked.append(what))
    monkeypatch.setattr(adminviews, "add_user_to_docker",
                        lambda login, **how: asked.append(how["group_name"]) or {"user": login, "added": True})
    command = importlib.import_module(f"ds01common.commands.{module}")
    assert command.main(["zed"]) == 0
    assert capsys.readouterr().out == said + "\n"
    group = "ds01-users" if module == "add_user" and access == "ds01-only" else "docker"
    assert asked == [module.replace("_", "-"), group]
