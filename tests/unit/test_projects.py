"""project-init and user-setup without an engine: the steps, guided mode on a real pty, Ctrl-C."""

import os
import sys

from ds01common import config as config_module
from ds01common import projects
from ds01common.identity import current_user
from fakes.terminal import CTRL_C, DOWN, ENTER, Terminal
from helpers import BIN, ROOT, run_command

NO_DOCKER = {"DOCKER_HOST": "unix:///nonexistent.sock"}


def guided_command(*args):
    return [sys.executable, str(BIN / "project-init"), "--guided", *args]


def test_init_without_build_runs_the_steps_in_order_and_never_touches_docker(ds01_env):
    config = config_module.load(ds01_env["config"])
    steps = []

    def no_docker():
        raise AssertionError("Docker was asked for")

    options = projects.ProjectOptions(name="proj", template="custom", build=False)
    result = projects.init(options, config=config, user=current_user(), docker=no_docker,
                           on_step=lambda step, text: steps.append(step), log_dir=ds01_env["log"],
                           environment={"PATH": os.environ["PATH"]})
    assert steps == ["dir-create", "git-init", "readme-create", "image-create"]
    project = ds01_env["workspace_root"] / "proj"
    assert result["workspace"] == str(project) and result["image"] is None
    assert "FROM ds01-test/busybox:latest" in (project / "Dockerfile").read_text()


def test_a_bad_template_is_refused_before_anything_is_made(ds01_env):
    result = run_command("project-init", "proj", "--template", "fancy", "--no-build")
    assert result.returncode == 1 and "choose from general, cv, nlp, rl, custom" in result.stderr
    assert not (ds01_env["workspace_root"] / "proj").exists()


def test_project_init_with_flags_makes_workspace_git_readme_and_dockerfile(ds01_env):
    result = run_command("project-init", "proj", "--template", "custom", "--no-build", "--no-git",
                         "--packages", "wandb", env=NO_DOCKER)
    assert result.returncode == 0, result.stderr
    project = ds01_env["workspace_root"] / "proj"
    assert not (project / ".git").exists() and (project / "README.md").is_file()
    assert "pip install wandb" in (project / "Dockerfile").read_text()
    assert "project-launch proj" in result.stdout and "image-create proj" in result.stdout


def test_a_failed_step_says_exactly_what_was_made(ds01_env):
    result = run_command("project-init", "proj", "--template", "custom", env=NO_DOCKER)
    assert result.returncode == 1
    assert "cannot reach the Docker engine" in result.stderr
    made = result.stderr.split("made so far (kept):")[1]
    for step in ("dir-create", "git-init", "readme-create", "image-create"):
        assert step in made
    assert "image-build" not in made


def test_guided_without_a_terminal_is_exit_2_naming_the_flags(ds01_env):
    result = run_command("project-init", "--guided")
    assert result.returncode == 2
    assert "--template" in result.stderr and "--no-build" in result.stderr and "instead of --guided" in result.stderr
    assert not ds01_env["workspace_root"].exists()


def test_project_init_without_a_name_or_guided_is_a_usage_error(ds01_env):
    result = run_command("project-init")
    assert result.returncode == 2 and "--guided" in result.stderr


def test_user_setup_without_a_terminal_names_the_commands_to_use_instead(ds01_env):
    result = run_command("user-setup")
    assert result.returncode == 2
    for command in ("ssh-setup", "project-init NAME", "vscode-setup"):
        assert command in result.stderr


def test_guided_on_a_terminal_makes_what_was_answered(ds01_env):
    terminal = Terminal(guided_command(), env=NO_DOCKER)
    terminal.expect("Project name")
    terminal.send("notes" + ENTER)
    terminal.expect("Image template")
    terminal.send(DOWN * 4 + ENTER)
    terminal.expect("Extra packages")
    terminal.send("einops" + ENTER)
    terminal.expect("git repository")
    terminal.send("y")
    terminal.expect("Build the image now")
    terminal.send("n")
    assert terminal.wait() == 0, terminal.text
    project = ds01_env["workspace_root"] / "notes"
    assert (project / ".git").is_dir() and (project / "README.md").is_file()
    dockerfile = (project / "Dockerfile").read_text()
    assert "custom" in dockerfile and "pip install einops" in dockerfile
    assert "image-create notes" in terminal.text  # the build was declined: says how to do it later


def test_ctrl_c_in_a_guided_question_makes_nothing(ds01_env):
    terminal = Terminal(guided_command("--template", "custom"), env=NO_DOCKER)
    terminal.expect("Project name")
    terminal.send("halfway" + ENTER)
    terminal.expect("Extra packages")  # --template was given, so it was not asked
    terminal.send(CTRL_C)
    assert terminal.wait() == 130
    assert "nothing was made" in terminal.text
    assert not (ds01_env["workspace_root"] / "halfway").exists()


def test_user_setup_asks_everything_first_and_ctrl_c_leaves_no_key(ds01_env, tmp_path):
    terminal = Terminal([sys.executable, str(BIN / "user-setup")], env=NO_DOCKER)
    terminal.expect("Welcome to DS01")
    home_key = current_user().home + "/.ssh/id_ed25519"
    import os
    had_key = os.path.exists(home_key)
    if not had_key:
        terminal.expect("Make an SSH key pair now")
        terminal.send("y")
    terminal.expect("Project name")
    terminal.send(CTRL_C)
    assert terminal.wait() == 130
    assert "nothing was made" in terminal.text
    assert os.path.exists(home_key) == had_key


def test_packages_may_come_before_the_name_as_a_comma_list_or_repeated(ds01_env):
    result = run_command("project-init", "--packages", "wandb,einops", "--template", "custom", "--packages",
                         "scipy", "--no-build", "proj", "--no-git", env=NO_DOCKER)
    assert result.returncode == 0, result.stderr
    dockerfile = (ds01_env["workspace_root"] / "proj" / "Dockerfile").read_text()
    assert "RUN python3 -m pip install wandb einops scipy" in dockerfile


def test_a_name_swallowed_by_packages_is_a_usage_error_saying_how_to_fix_it(ds01_env):
    result = run_command("project-init", "--packages", "wandb", "thesis", "--no-build")
    assert result.returncode == 2
    assert "NAME is required" in result.stderr and "(wandb thesis)" in result.stderr
    assert "--packages a,b" in result.stderr
    assert not ds01_env["workspace_root"].exists()


def test_a_bad_name_or_package_is_refused_before_anything_is_printed_or_made(ds01_env):
    for args in (["Bad/Name"], ["proj", "--packages", "ok", "bad;rm"]):
        result = run_command("project-init", *args, "--no-build", "--template", "custom")
        assert result.returncode == 1 and result.stdout == "", result.stdout
        assert "invalid" in result.stderr and "made so far" not in result.stderr
    assert not ds01_env["workspace_root"].exists()


def test_the_project_and_user_dispatchers_run_their_subcommands(ds01_env):
    result = run_command("project", "init", "proj", "--template", "custom", "--no-build", env=NO_DOCKER)
    assert result.returncode == 0, result.stderr
    assert (ds01_env["workspace_root"] / "proj" / "Dockerfile").is_file()
    setup = run_command("user", "setup")
    assert setup.returncode == 2 and "ssh-setup" in setup.stderr and "vscode-setup" in setup.stderr
    assert "launch" in run_command("project", "--help").stdout


def first_day_block(path):
    """The fenced block of `path` that starts with `user-setup`: the first-day walkthrough."""
    blocks = path.read_text().split("```")[1::2]
    found = [block for block in blocks if block.split("\n", 1)[-1].lstrip().startswith("user-setup ")]
    assert len(found) == 1, f"{path} should have one first-day block starting with user-setup"
    return [line.rstrip() for line in found[0].split("\n", 1)[-1].strip().splitlines()]


def test_the_readme_and_docs_first_day_walkthroughs_say_the_same():
    """The README's walkthrough is the one the integration suite runs line by line from docs/projects.md."""
    readme = first_day_block(ROOT / "README.md")
    docs = first_day_block(ROOT / "docs" / "projects.md")
    assert readme == docs
    assert [line.split()[0] for line in docs] == ["user-setup", "ssh-setup", "project-init", "vscode-setup",
                                                  "project-launch", "container-list", "container-retire"]
