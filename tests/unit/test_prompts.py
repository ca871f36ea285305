"""prompts.py driven for real through prompt_toolkit's pipe input, and guided.py's questions."""

import pytest
from ds01common import config as config_module
from ds01common import guided, prompts
from ds01common.errors import UsageError
from ds01common.projects import ProjectOptions
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

DOWN = "\x1b[B"
ENTER = "\r"


@pytest.fixture
def keys():
    """Send keystrokes to the questions asked inside `with prompts.use_io(...)`."""
    with create_pipe_input() as pipe:
        with prompts.use_io(input=pipe, output=DummyOutput()):
            yield pipe


@pytest.fixture
def config(ds01_env):
    return config_module.load(ds01_env["config"])


def test_without_a_terminal_a_question_is_a_usage_error_naming_the_flag(monkeypatch):
    monkeypatch.delenv("DS01_ASSUME_TTY", raising=False)
    with pytest.raises(UsageError, match="use --yes") as raised:
        prompts.confirm("Delete?", "--yes")
    assert raised.value.exit_code == 2


def test_confirm_text_and_select_take_typed_answers(keys):
    keys.send_text("y")
    assert prompts.confirm("Sure?", "--yes") is True
    keys.send_text("hello" + ENTER)
    assert prompts.text("Say:", "--say") == "hello"
    keys.send_text(DOWN + DOWN + ENTER)
    assert prompts.select("Pick:", [("first", 1), ("second", 2), ("third", 3)], "--pick") == 3


def test_ctrl_c_in_a_question_is_a_keyboard_interrupt(keys):
    keys.send_text("\x03")
    with pytest.raises(KeyboardInterrupt):
        prompts.text("Name:", "--name")


def test_end_of_input_in_a_question_is_a_keyboard_interrupt():
    with create_pipe_input() as pipe:
        pipe.close()
        with prompts.use_io(input=pipe, output=DummyOutput()):
            with pytest.raises(KeyboardInterrupt):
                prompts.text("Name:", "--name")


def test_guided_project_questions_fill_the_same_options_as_the_flags(keys, config, tmp_path):
    # name (with one invalid try), template: custom is the 5th choice, packages, git, build, deploy
    keys.send_text("Bad Name" + ENTER)
    keys.send_text("\x7f" * 8 + "thesis" + ENTER)
    keys.send_text(DOWN * 4 + ENTER)
    keys.send_text("wandb, einops==0.8.0" + ENTER)  # spaces or commas
    keys.send_text("n")
    keys.send_text("y")
    keys.send_text("y")
    options = guided.ask_project(ProjectOptions(), config, workspace=tmp_path)
    assert options == ProjectOptions(name="thesis", template="custom", packages=["wandb", "einops==0.8.0"],
                                     git=False, build=True, deploy=True)


def test_options_given_as_flags_are_not_asked_again(keys, config, tmp_path):
    keys.send_text("n")  # only "build now?" is left to ask; deploy is not asked without a build
    options = ProjectOptions(name="demo", template="rl", packages=[], git=False)
    guided.ask_project(options, config, given={"template", "packages", "git", "deploy"}, workspace=tmp_path)
    assert options == ProjectOptions(name="demo", template="rl", packages=[], git=False, build=False)


def test_ssh_question_is_skipped_when_a_key_exists(keys):
    assert guided.ask_ssh(has_key=True) is False
    keys.send_text("y")
    assert guided.ask_ssh(has_key=False) is True
