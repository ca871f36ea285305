"""Project images on the real engine: build from the offline base, labels, the caller's user in the
image, listing with the containers that use an image, and refusals (in use, no --yes, others')."""

import io
import json

import pytest
from ds01common import config as config_module
from ds01common import image_store, images
from ds01common.identity import User, current_user
from helpers import run_command

BASE = "ds01-test/busybox:latest"


@pytest.fixture
def engine(docker_env):
    """docker_env plus cleanup of every image this test tagged."""
    made = []
    docker_env["made_images"] = made
    yield docker_env
    for reference in made:
        try:
            docker_env["docker"].images.remove(reference, force=True)
        except Exception:  # noqa: BLE001 - already deleted by the test
            pass


def test_a_huge_directory_service_uid_gets_its_user_without_huge_files(engine, unique):
    config = config_module.load(engine["config"])
    giant = User(f"giant{unique}", f"giant{unique}", 2_000_000_000, 2_000_000_001, str(engine["root"] / "giant"))
    project = f"big{unique}"
    (config.workspace_dir(giant.home) / project).mkdir(parents=True)
    images.write_dockerfile(config, giant, project, template="custom")
    built = image_store.build(engine["docker"], config, giant, project, log_dir=engine["log"])
    engine["made_images"].append(built["image"])
    client = engine["docker"]
    output = client.containers.run(built["image"], ["sh", "-c", "id -u; id -g; pwd; grep ^giant /etc/passwd"],
                                   remove=True).decode().split()
    assert output[:3] == ["2000000000", "2000000001", "/workspace"]
    assert output[3].startswith(f"giant{unique}:x:2000000000:2000000001:")
    base_size = client.images.get(BASE).attrs["Size"]
    assert built["size"] - base_size < 1_000_000  # no sparse lastlog/faillog blown up to gigabytes
    labels = client.images.get(built["image"]).labels
    assert labels == {"ds01.managed": "true", "ds01.user": f"giant{unique}", "ds01.project": project,
                      "ds01.home": f"/home/giant{unique}"}


def test_create_list_update_delete_through_the_commands(engine, unique):
    client = engine["docker"]
    me = current_user()
    project = f"img{unique}"
    reference = f"ds01-{me.name}/{project}:latest"
    engine["made_images"].append(reference)
    (engine["workspace_root"] / project).mkdir(parents=True)

    created = run_command("image-create", project, "--template", "custom")
    assert created.returncode == 0, created.stderr
    assert f"built {reference}" in created.stdout
    assert "Step 1/" not in created.stdout  # no terminal: the build output is not streamed
    dockerfile = engine["workspace_root"] / project / "Dockerfile"
    assert f"FROM {BASE}" in dockerfile.read_text()

    container = client.containers.create(reference, ["sleep", "60"], name=f"{project}._.{me.uid}", labels={
        "ds01.managed": "true", "ds01.user": me.name, "ds01.uid": str(me.uid), "ds01.project": project,
        "ds01.workspace": str(engine["root"] / "ws")})
    listed = json.loads(run_command("image-list", "--json").stdout)
    mine = [entry for entry in listed if entry["image"] == reference]
    assert mine and mine[0]["containers"] == [project] and mine[0]["size"] > 0

    in_use = run_command("image-delete", project, "--yes")
    assert in_use.returncode == 1 and f"container-retire {project}" in in_use.stderr
    container.remove(force=True)

    no_yes = run_command("image-delete", project)
    assert no_yes.returncode == 2 and "--yes" in no_yes.stderr

    edited = run_command("image-update", project, "--packages", "wandb", "--no-build")
    assert edited.returncode == 0 and "RUN python3 -m pip install wandb" in dockerfile.read_text()
    first_id = client.images.get(reference).id
    dropped = run_command("image-update", project, "--remove-packages", "wandb", "--no-cache")
    assert dropped.returncode == 0, dropped.stderr  # back to no packages: builds offline again
    assert client.images.get(reference).id != first_id
    assert not [entry for entry in client.api.images(all=True) if entry["Id"] == first_id]  # old one pruned

    deleted = run_command("image-delete", project, "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert "kept" in deleted.stdout and dockerfile.is_file()
    assert not [entry for entry in client.api.images() if reference in (entry["RepoTags"] or [])]


def test_someone_elses_image_is_exit_4(engine, unique):
    client = engine["docker"]
    me = current_user()
    theirs = f"ds01-other{unique}/proj:latest"
    mislabelled = f"ds01-{me.name}/stolen{unique}:latest"
    dockerfile = io.BytesIO(f"FROM {BASE}\n".encode())
    image, _ = client.images.build(fileobj=dockerfile, tag=theirs, rm=True, labels={
        "ds01.managed": "true", "ds01.user": f"other{unique}", "ds01.project": "proj"})
    image.tag(mislabelled)
    engine["made_images"] += [theirs, mislabelled]
    for target in (theirs, f"stolen{unique}"):
        result = run_command("image-delete", target, "--yes")
        assert result.returncode == 4, result.stderr
        assert f"belongs to other{unique}" in result.stderr
    assert client.images.get(theirs)


def test_on_a_distro_base_the_user_is_made_with_useradd_without_log_initialisation(engine, unique):
    """A stand-in for a Debian base: busybox with recording groupadd/useradd (the real ML
    templates need the network); checks the flags the template passes them."""
    client = engine["docker"]
    stub = f"ds01-test/stub-distro-{unique}:latest"
    recorder = ('#!/bin/sh\\necho "$(basename $0) $*" >> /tools.log\\n'
                'case $(basename $0) in groupadd) echo "$3:x:$2:" >> /etc/group;;\\n'
                'useradd) echo "$9:x:$4:0::/home/$9:$8" >> /etc/passwd;; esac\\n')
    dockerfile = (f"FROM {BASE}\nRUN printf '{recorder}' > /usr/sbin/groupadd && cp /usr/sbin/groupadd "
                  "/usr/sbin/useradd && chmod 755 /usr/sbin/groupadd /usr/sbin/useradd\n")
    client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=stub, rm=True)
    engine["made_images"].append(stub)
    config = config_module.load(engine["config"])
    person = User(f"p{unique}", f"p{unique}", 3_000_123, 3_000_124, str(engine["root"] / "person"))
    images.write_dockerfile(config, person, "distro", template="custom", base=stub)
    built = image_store.build(client, config, person, "distro", log_dir=engine["log"])
    engine["made_images"].append(built["image"])
    log = client.containers.run(built["image"], ["cat", "/tools.log"], remove=True).decode().splitlines()
    assert log == [f"groupadd -g 3000124 p{unique}", f"useradd -l -m -u 3000123 -g p{unique} -s /bin/sh p{unique}"]
