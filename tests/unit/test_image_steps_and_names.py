"""Images that build and say why when they don't; image names for logins Docker can't spell (no engine)."""

import os
from pathlib import Path

import pytest
from ds01common import config as config_module
from ds01common import image_build, image_steps, image_store, images, names, paths
from ds01common.errors import Ds01Error, PermissionDenied
from ds01common.identity import User, sanitise
from fakes.engine import FakeEngine

TEMPLATES_DIR = paths.checkout_root() / "config" / "templates"


@pytest.fixture
def alice(tmp_path):
    return User("alice", "alice", os.getuid(), os.getgid(), str(tmp_path / "home-alice"))


@pytest.fixture
def config(ds01_env):
    return config_module.load(ds01_env["config"])


@pytest.mark.parametrize(("login", "expected"), [
    ("alice_", "alice"), ("a..b", "a.b"), ("-x", "x"), ("a__b", "a_b"), ("a-_.b", "a-b"), ("bob", "bob"),
    ("___", "u4242"), ("Jo.Smith@Lab.org", "jo.smith")])
def test_logins_docker_cannot_spell_get_docker_valid_image_names(login, expected):
    assert names.image_user(sanitise(login), 4242) == expected
    assert names.image_name(sanitise(login), "proj", uid=4242) == f"ds01-{expected}/proj:latest"


def test_a_login_with_nothing_left_and_no_uid_is_a_clear_error():
    with pytest.raises(Ds01Error, match="no Docker-valid image name"):
        names.image_user("__")


def test_a_project_tag_reference_names_that_tag_of_your_own_image(alice):
    assert images.resolve_reference(alice, "proj:experiment-42") == ("ds01-alice/proj:experiment-42", "proj")
    assert images.resolve_reference(alice, "proj") == ("ds01-alice/proj:latest", "proj")
    with pytest.raises(Ds01Error, match="invalid tag"):
        images.resolve_reference(alice, "proj:-bad")


def test_a_trailing_underscore_login_owns_its_docker_valid_repository():
    odd = User("alice_", "alice_", 1500, 1500, "/nonexistent")
    assert images.resolve_reference(odd, "ds01-alice/proj:v1") == ("ds01-alice/proj:v1", "proj")
    with pytest.raises(PermissionDenied, match="belongs to alice_x"):
        images.resolve_reference(odd, "ds01-alice_x/proj")


def test_the_written_dockerfile_has_no_user_step_and_the_build_adds_it_after_the_last_line(config, alice):
    path, _ = images.write_dockerfile(config, alice, "proj", template="custom", templates_dir=TEMPLATES_DIR)
    text = path.read_text() + "RUN mkdir /opt/x\n"
    built = image_build.compose(text, image_store.user_step(TEMPLATES_DIR))
    lines = built.text.splitlines()
    assert lines[:built.user_lines] == text.splitlines()  # the user's lines keep their numbers
    assert lines.index("RUN mkdir /opt/x") < lines.index(image_build.AS_ROOT)  # appended lines run as root
    assert lines[-1] == "USER ${DS01_UID}:${DS01_GID}"  # and the image still ends as the user


def test_a_round_one_dockerfile_with_the_embedded_step_is_neutralised_at_build_time():
    embedded = ("FROM base\n# Your own user inside the image, with your uid/gid\nARG DS01_UID=1000\n"
                "RUN useradd x\nUSER ${DS01_UID}:${DS01_GID}\nRUN mkdir /opt/x\n")
    built = image_build.compose(embedded, "RUN true\nUSER ${DS01_UID}:${DS01_GID}\n")
    user_part = built.text.splitlines()[:built.user_lines]
    assert len(user_part) == 6 and user_part[5] == "RUN mkdir /opt/x"
    assert [line for line in user_part if line.startswith(("USER", "RUN useradd"))] == []


def test_instructions_join_continuations_and_skip_comments():
    text = "# c\nFROM a\n\nRUN one \\\n  # inner\n  two\nUSER x\n"
    assert image_build.instructions(text) == [image_build.Instruction(2, "FROM a"),
                                             image_build.Instruction(4, "RUN one two"),
                                             image_build.Instruction(7, "USER x")]


def test_a_failed_build_names_the_dockerfile_line_the_output_and_the_fix(config, alice, tmp_path):
    path, _ = images.write_dockerfile(config, alice, "proj", template="custom", templates_dir=TEMPLATES_DIR)
    path.write_text(path.read_text() + "RUN false-command --now\n")
    failing_line = len(path.read_text().splitlines())
    engine = FakeEngine(images=())
    engine.build_output = [{"stream": "Step 1/3 : FROM ds01-test/busybox:latest\n"}, {"stream": " ---> abc\n"},
                           {"stream": "Step 2/3 : RUN false-command --now\n"},
                           {"stream": "/bin/sh: false-command: not found\n"},
                           {"error": "The command '/bin/sh -c false-command --now' returned a non-zero code: 127",
                            "errorDetail": {"message": "The command '/bin/sh -c false-command --now' returned a "
                                                       "non-zero code: 127"}}]
    with pytest.raises(Ds01Error) as raised:
        image_store.build(engine, config, alice, "proj", log_dir=tmp_path)
    message = str(raised.value)
    assert f"at line {failing_line} of {path}:" in message
    assert f"  {failing_line} | RUN false-command --now" in message
    assert "last output:\n  /bin/sh: false-command: not found" in message
    assert "returned a non-zero code: 127" in message
    assert f"fix: edit line {failing_line} of {path} and run `image-update proj`" in message
    assert "--template custom" in message


def test_a_failure_in_ds01s_own_step_says_so():
    built = image_build.compose("FROM scratch\n", "RUN adduser x\n")
    output = ["Step 1/3 : FROM scratch\n", "Step 3/3 : RUN adduser x\n", "exec: /bin/sh: not found\n"]
    message = image_build.failure_message("ds01-a/p:latest", "p", Path("/w/p/Dockerfile"), built, output,
                                          "failed", shown=False)
    assert "user step DS01 adds" in message and "--base IMAGE" in message


def test_apt_packages_get_their_own_marked_line_before_the_pip_packages(config, alice):
    path, _ = images.write_dockerfile(config, alice, "proj", template="custom", templates_dir=TEMPLATES_DIR)
    assert images.add_build_steps(config, alice, "proj", apt=["ffmpeg", "libgl1"]) == ["ffmpeg", "libgl1"]
    text = path.read_text()
    line = ("RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg libgl1"
            " && rm -rf /var/lib/apt/lists/*")
    assert line in text.splitlines()
    assert text.index(image_steps.APT_MARKER) < text.index("# ds01-packages:")
    images.add_build_steps(config, alice, "proj", apt=["ffmpeg=7:5.1"])
    assert image_steps.read_apt(path.read_text()) == ["libgl1", "ffmpeg=7:5.1"]


@pytest.mark.parametrize("bad", ["ffmpeg; rm -rf /", "$(id)", "Foo", "-x", "a\nRUN evil"])
def test_apt_names_that_could_break_the_dockerfile_are_refused(bad):
    with pytest.raises(Ds01Error, match="invalid apt package"):
        image_steps.validate_apt([bad])


def test_a_requirements_file_is_copied_beside_the_dockerfile_and_installed(config, alice, tmp_path):
    path, _ = images.write_dockerfile(config, alice, "proj", template="custom", templates_dir=TEMPLATES_DIR)
    given = tmp_path / "reqs.txt"
    given.write_text("numpy==1.26.4\n")
    images.add_build_steps(config, alice, "proj", requirements=str(given))
    assert (path.parent / "requirements.txt").read_text() == "numpy==1.26.4\n"
    lines = path.read_text().splitlines()
    assert list(image_steps.REQUIREMENTS_STEPS) == lines[lines.index(image_steps.REQUIREMENTS_MARKER) + 1:][:2]
    images.add_build_steps(config, alice, "proj", requirements=str(given))
    assert path.read_text().count(image_steps.REQUIREMENTS_MARKER) == 1


def test_a_hand_written_dockerfile_gets_the_steps_at_its_end(config, alice):
    path = images.dockerfile_path(config, alice, "proj")
    path.parent.mkdir(parents=True)
    path.write_text("FROM debian:12\nRUN echo mine\n")
    images.add_build_steps(config, alice, "proj", apt=["curl"])
    assert path.read_text().splitlines()[:2] == ["FROM debian:12", "RUN echo mine"]
    assert image_steps.read_apt(path.read_text()) == ["curl"]


def test_snapshot_and_restore_put_the_project_back_as_it_was(config, alice, tmp_path):
    path, _ = images.write_dockerfile(config, alice, "proj", template="custom", templates_dir=TEMPLATES_DIR)
    before_text = path.read_text()
    saved = images.snapshot(config, alice, "proj")
    images.update_dockerfile(config, alice, "proj", packages=["does-not-exist-pkg"])
    (tmp_path / "r.txt").write_text("x\n")
    images.add_build_steps(config, alice, "proj", requirements=str(tmp_path / "r.txt"))
    images.restore(saved, alice)
    assert path.read_text() == before_text
    assert not (path.parent / "requirements.txt").exists()
