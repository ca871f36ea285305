"""Images without an engine: Dockerfile templates, the packages line, ownership, listing, removal."""


import os

import pytest
from ds01common import config as config_module
from ds01common import image_build, image_store, images, paths
from ds01common.errors import Ds01Error, NotFound, PermissionDenied
from ds01common.identity import User
from fakes.engine import FakeEngine
from helpers import run_command, write_config

TEMPLATES_DIR = paths.checkout_root() / "config" / "templates"


@pytest.fixture
def alice(tmp_path):
    return User("alice", "alice", 1234, 1234, str(tmp_path / "home-alice"))


@pytest.fixture
def config(ds01_env):
    return config_module.load(ds01_env["config"])


@pytest.mark.parametrize("template", images.TEMPLATES)
def test_every_template_renders_from_the_base_with_the_callers_user_and_no_log_files(template):
    text = images.render(template, "registry.example/base:1", ["wandb", "einops==0.8.0"], "proj", TEMPLATES_DIR)
    assert "FROM registry.example/base:1\n" in text
    assert "{{" not in text
    assert images.read_packages(text) == ["wandb", "einops==0.8.0"]
    assert "DS01_UID" not in text and "USER " not in text  # the user step is not the user's to carry
    built = image_build.compose(text, image_store.user_step(TEMPLATES_DIR)).text
    assert "ARG DS01_UID" in built and "ARG DS01_GID" in built
    assert "useradd -l " in built and "adduser -D " in built
    assert built.rstrip().endswith("USER ${DS01_UID}:${DS01_GID}")


def test_the_custom_template_without_packages_runs_nothing_that_needs_the_network():
    text = images.render("custom", "ds01-test/busybox:latest", [], "proj", TEMPLATES_DIR)
    run_lines = [line for line in text.splitlines() if line.startswith("RUN ")]
    assert run_lines == []  # the user step comes at build time
    assert "pip" not in text.split("# ds01-packages:")[1].split("\n")[1]
    assert "apt-get" not in text


def test_ml_templates_install_their_stack_with_pip_on_a_debian_base():
    assert "torchvision" in images.render("cv", "ubuntu:22.04", [], "p", TEMPLATES_DIR)
    assert "transformers" in images.render("nlp", "ubuntu:22.04", [], "p", TEMPLATES_DIR)
    assert "gymnasium" in images.render("rl", "ubuntu:22.04", [], "p", TEMPLATES_DIR)
    general = images.render("general", "ubuntu:22.04", [], "p", TEMPLATES_DIR)
    assert "python3-pip" in general and "apt-get install" in general


def test_an_unknown_template_is_refused_naming_the_choices():
    with pytest.raises(Ds01Error, match="choose from general, cv, nlp, rl, custom"):
        images.render("fancy", "ubuntu:22.04", [], "p", TEMPLATES_DIR)


@pytest.mark.parametrize("bad", ["numpy; rm -rf /", "x'y", "$(id)", "a\nRUN evil", "`id`", "--index-url=x"])
def test_package_specs_that_could_break_the_dockerfile_are_refused(bad):
    with pytest.raises(Ds01Error, match="invalid package"):
        images.validate_packages([bad])


def test_version_specifiers_are_quoted_so_the_shell_does_not_redirect():
    line = images.packages_line(["transformers>=4.40", "torch==2.3.1", "pkg[extra]"])
    assert line == "RUN python3 -m pip install 'transformers>=4.40' torch==2.3.1 'pkg[extra]'"


def test_adding_a_new_version_replaces_the_old_and_removing_drops_it():
    merged = images.merge_packages(["numpy==1.0", "wandb", "einops"], ["NumPy==2.0", "scipy"], ["wandb"])
    assert merged == ["einops", "NumPy==2.0", "scipy"]


def test_an_existing_dockerfile_is_used_as_it_is_unless_regenerated(config, alice, ds01_env):
    (config.workspace_dir(alice.home) / "proj").mkdir(parents=True)
    path, written = images.write_dockerfile(config, alice, "proj", template="custom", templates_dir=TEMPLATES_DIR)
    assert written and "FROM ds01-test/busybox:latest" in path.read_text()
    path.write_text(path.read_text() + "# my edit\n")
    _, written = images.write_dockerfile(config, alice, "proj", template="cv", templates_dir=TEMPLATES_DIR)
    assert not written and "# my edit" in path.read_text()
    _, written = images.write_dockerfile(config, alice, "proj", template="custom", base="other:1",
                                         regenerate=True, templates_dir=TEMPLATES_DIR)
    assert written and "FROM other:1" in path.read_text()
    assert "# my edit" in (path.parent / "Dockerfile.previous").read_text()


def test_update_edits_only_the_packages_line(config, alice):
    (config.workspace_dir(alice.home) / "proj").mkdir(parents=True)
    path, _ = images.write_dockerfile(config, alice, "proj", template="custom", packages=["wandb"],
                                      templates_dir=TEMPLATES_DIR)
    before = path.read_text().splitlines()
    assert images.update_dockerfile(config, alice, "proj", packages=["einops"]) == ["wandb", "einops"]
    after = path.read_text().splitlines()
    changed = [index for index, (old, new) in enumerate(zip(before, after)) if old != new]
    assert len(before) == len(after) and len(changed) == 1
    assert after[changed[0]] == "RUN python3 -m pip install wandb einops"


def test_update_of_a_hand_written_dockerfile_without_the_line_explains_what_to_do(config, alice):
    project = config.workspace_dir(alice.home) / "proj"
    project.mkdir(parents=True)
    (project / "Dockerfile").write_text("FROM ubuntu:22.04\n")
    os.chown(project / "Dockerfile", alice.uid, alice.gid)  # hand-written: hers (root reads only her files)
    with pytest.raises(Ds01Error, match="--regenerate"):
        images.update_dockerfile(config, alice, "proj", packages=["x"])
    assert (project / "Dockerfile").read_text() == "FROM ubuntu:22.04\n"


def test_another_users_image_is_permission_denied_naming_the_owner(alice):
    with pytest.raises(PermissionDenied, match="ds01-bob/proj:latest belongs to bob"):
        images.resolve_reference(alice, "ds01-bob/proj")
    assert images.resolve_reference(alice, "proj") == ("ds01-alice/proj:latest", "proj")
    assert images.resolve_reference(alice, "ds01-alice/proj:v2") == ("ds01-alice/proj:v2", "proj")


def test_an_image_labelled_for_someone_else_is_refused(alice):
    engine = FakeEngine(images=())
    engine.add_image("sha256:1", ["ds01-alice/proj:latest"], {"ds01.managed": "true", "ds01.user": "mallory"})
    with pytest.raises(PermissionDenied, match="belongs to mallory"):
        image_store.find_image(engine, alice, "proj")


def test_listing_shows_only_the_callers_images_and_the_containers_using_them(alice):
    engine = FakeEngine(images=())
    engine.add_image("sha256:1", ["ds01-alice/proj:latest", "ds01-alice/proj:20260101-000000"],
                     {"ds01.managed": "true", "ds01.user": "alice", "ds01.project": "proj"}, size=2048)
    engine.add_image("sha256:2", ["ds01-bob/proj:latest"], {"ds01.managed": "true", "ds01.user": "bob"})
    engine.add_image("sha256:3", ["ubuntu:22.04"])
    engine.add_container("proj", 1234, "alice", "sha256:1")
    listed = image_store.list_images(engine, alice)
    assert [entry["image"] for entry in listed] == ["ds01-alice/proj:latest", "ds01-alice/proj:20260101-000000"]
    assert listed[0]["containers"] == ["proj"] and listed[0]["size"] == 2048
    assert listed[0]["created"].endswith("Z")


def test_delete_refuses_an_image_a_container_uses_and_keeps_it(alice, tmp_path):
    engine = FakeEngine(images=())
    engine.add_image("sha256:1", ["ds01-alice/proj:latest"], {"ds01.managed": "true", "ds01.user": "alice"})
    engine.add_container("proj", 1234, "alice", "sha256:1")
    with pytest.raises(Ds01Error, match="used by container.*proj.*container-retire proj"):
        image_store.delete(engine, alice, "proj", log_dir=tmp_path)
    assert engine.images.removed == []


def test_delete_removes_an_unused_image(alice, tmp_path):
    engine = FakeEngine(images=())
    engine.add_image("sha256:1", ["ds01-alice/proj:latest"], {"ds01.managed": "true", "ds01.user": "alice"})
    assert image_store.delete(engine, alice, "proj", log_dir=tmp_path)["image"] == "ds01-alice/proj:latest"
    assert engine.images.removed == ["ds01-alice/proj:latest"]
    with pytest.raises(NotFound, match="image-create proj"):
        image_store.delete(engine, alice, "proj", log_dir=tmp_path)


def test_a_build_error_is_one_clear_error_with_the_last_lines_when_quiet(config, alice, tmp_path):
    import os

    alice = alice._replace(uid=os.getuid(), gid=os.getgid())  # the build reads the project as its user
    (config.workspace_dir(alice.home) / "proj").mkdir(parents=True)
    images.write_dockerfile(config, alice, "proj", template="custom", templates_dir=TEMPLATES_DIR)
    engine = FakeEngine(images=())
    engine.build_output = [{"stream": "Step 1/9 : FROM base\n"}, {"stream": "pip: not found\n"},
                           {"error": "The command returned a non-zero code: 127",
                            "errorDetail": {"message": "The command returned a non-zero code: 127"}}]
    with pytest.raises(Ds01Error) as raised:
        image_store.build(engine, config, alice, "proj", log_dir=tmp_path)
    message = str(raised.value)
    dockerfile = config.workspace_dir(alice.home) / "proj" / "Dockerfile"
    from_line = dockerfile.read_text().splitlines().index("FROM ds01-test/busybox:latest") + 1
    assert f"image build failed for ds01-alice/proj:latest at line {from_line} of {dockerfile}" in message
    assert f"  {from_line} | FROM ds01-test/busybox:latest" in message
    assert "pip: not found" in message and "docker: The command returned a non-zero code: 127" in message
    assert f"fix: edit line {from_line} of {dockerfile}" in message and "--template custom" in message
    sent = engine.builds[0]
    assert sent["labels"] == {"ds01.managed": "true", "ds01.user": "alice", "ds01.project": "proj"}
    assert sent["buildargs"] == {"DS01_USER": "alice", "DS01_UID": str(os.getuid()), "DS01_GID": str(os.getgid())}


def test_the_build_context_holds_the_dockerfile_but_never_data(config, alice):
    import tarfile

    project = config.workspace_dir(alice.home) / "proj"
    (project / "data").mkdir(parents=True)
    (project / "data" / "huge.bin").write_bytes(b"x" * 1000)
    (project / "requirements.txt").write_text("numpy\n")
    images.write_dockerfile(config, alice, "proj", template="custom", templates_dir=TEMPLATES_DIR)
    with tarfile.open(fileobj=image_store._context(project, "FROM built\n")) as archive:
        assert sorted(archive.getnames()) == ["Dockerfile", "requirements.txt"]
        assert archive.extractfile("Dockerfile").read() == b"FROM built\n"


def test_image_create_no_build_writes_the_dockerfile_from_the_configured_base(ds01_env):
    write_config(ds01_env, {"images": {"base": "lab/base:7"}})
    result = run_command("image-create", "proj", "--template", "nlp", "--no-build", "--packages", "wandb",
                         env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert result.returncode == 0, result.stderr
    dockerfile = ds01_env["workspace_root"] / "proj" / "Dockerfile"
    assert f"wrote {dockerfile}" in result.stdout
    text = dockerfile.read_text()
    assert "FROM lab/base:7" in text and "transformers" in text and "pip install wandb" in text


def test_image_create_refuses_a_bad_project_name_saying_what_is_allowed(ds01_env):
    result = run_command("image-create", "My/Proj", "--no-build")
    assert result.returncode == 1
    assert "lowercase letters" in result.stderr and "Traceback" not in result.stderr


def test_packages_split_at_commas_that_start_a_new_package_but_not_inside_a_spec():
    given = ["wandb,einops", "scipy, tqdm,", "torch>=2,<3", "pkg[a,b],x==1,!=1.5"]
    assert images.validate_packages(given) == ["wandb", "einops", "scipy", "tqdm", "torch>=2,<3",
                                               "pkg[a,b]", "x==1,!=1.5"]


def test_image_create_and_update_take_packages_anywhere_comma_separated_or_repeated(ds01_env):
    dockerfile = ds01_env["workspace_root"] / "proj" / "Dockerfile"
    created = run_command("image-create", "--packages", "wandb,einops", "--template", "custom", "proj",
                          "--no-build")
    assert created.returncode == 0, created.stderr
    assert "RUN python3 -m pip install wandb einops" in dockerfile.read_text()
    updated = run_command("image-update", "--packages", "scipy", "--no-build", "proj", "--packages", "tqdm",
                          "--remove-packages", "wandb")
    assert updated.returncode == 0, updated.stderr
    assert "RUN python3 -m pip install einops scipy tqdm" in dockerfile.read_text()


def test_a_project_swallowed_by_packages_is_a_usage_error_saying_how_to_fix_it(ds01_env):
    for command in ("image-create", "image-update"):
        result = run_command(command, "--packages", "wandb", "proj", "--no-build")
        assert result.returncode == 2
        assert "PROJECT is required" in result.stderr and "--packages a,b" in result.stderr
        assert "(wandb proj)" in result.stderr and "Traceback" not in result.stderr
    assert not (ds01_env["workspace_root"] / "proj").exists()


def test_image_update_of_another_users_image_is_exit_4(ds01_env):
    result = run_command("image-update", "ds01-bob/proj", "--packages", "x", "--no-build")
    assert result.returncode == 4 and "belongs to bob" in result.stderr


def test_image_dispatcher_without_a_subcommand_is_a_usage_error_listing_them():
    result = run_command("image")
    assert result.returncode == 2 and "SUB" in result.stderr and "ARGS" not in result.stderr.split("error:")[1]
    listed = run_command("image", "--help").stdout
    for sub in ("create", "list", "update", "delete"):
        assert f"  {sub}" in listed
