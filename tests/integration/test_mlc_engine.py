"""AIME's documented `mlc` forms (v1 `mlc-SUB`, v2 `mlc SUB`) as real users on the real engine, and
`image-create --framework` building FROM the framework table's image (offline: the test image)."""

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import installed_site, run_command, write_config

IMAGE = "ds01-test/busybox:latest"
# AIME's framework and version spellings, all mapped to the offline test image.
FRAMEWORKS = {"Tensorflow-2.16.1": IMAGE, "Pytorch-2.6.0": IMAGE, "Pytorch-2.8.0": IMAGE}


@pytest.fixture(scope="module")
def site(shared_root, installed, linux_users, docker_client):
    """An installed DS01, a student and an admin, three simulated MIG slots (two per user)."""
    student = linux_users("i15-ana")
    admin = linux_users("i15-adm", groups=("docker", "ds01-admin"))
    config = {
        "default_group": "student", "admin_group": "ds01-admin", "workspace_root": "~/workspace",
        "defaults": {"max_mig_instances": 2, "max_gpus_per_container": 2, "max_cpus": 1, "memory": "256m",
                     "shm_size": "32m", "pids_limit": 128, "max_containers_per_user": 4},
        "groups": {"student": {"members": []}},
        "images": {"base": IMAGE, "frameworks": FRAMEWORKS},
        "gpus": {"simulate": [{"model": "NVIDIA A100-SXM4-80GB", "memory": "80g",
                               "mig": ["1g.10gb", "1g.10gb", "1g.10gb"]}]},
    }
    env, bin_dir = installed_site(installed, shared_root / "mlc-site", config)
    home = Path(student.pw_dir)
    for directory in ("data", "models"):
        (home / directory).mkdir(exist_ok=True)
        subprocess.run(["chown", f"{student.pw_uid}:{student.pw_gid}", str(home / directory)], check=True)
    yield {"env": env, "bin": bin_dir, "student": student, "admin": admin, "docker": docker_client,
           "home": home}
    for entry in docker_client.api.containers(all=True, filters={"label": "ds01.managed=true"}):
        if (entry.get("Labels") or {}).get("ds01.user") in (student.pw_name, admin.pw_name):
            subprocess.run(["docker", "rm", "-f", entry["Id"]], capture_output=True)


@dataclass
class Form:
    """One documented AIME command line, who types it, and the DS01 outcome."""

    aime: str                      # as AIME documents it
    argv: list                     # what runs here ({home} is the student's home)
    code: int = 0
    says: list = field(default_factory=list)  # on stdout or stderr
    who: str = "student"


HOME = "{home}"
FORMS = [
    # v1 (mlc-SUB), on a name with dots: it becomes tf1-15-0 and every command finds it by either.
    Form("mlc-create NAME FRAMEWORK VERSION -w=DIR -d=DIR",
         ["mlc-create", "tf1.15.0", "Tensorflow", "2.16.1", f"-w={HOME}/ws-tf", f"-d={HOME}/data"],
         says=["'tf1-15-0'", "GPU 0:"]),
    Form("mlc-list", ["mlc-list"], says=["tf1-15-0", "tensorflow-2.16.1", "created"]),
    Form("mlc-open NAME (no terminal here: found, then refused)", ["mlc-open", "tf1.15.0"], 2, ["terminal"]),
    Form("mlc-start NAME", ["mlc-start", "tf1.15.0"], says=["started"]),
    Form("mlc-stats", ["mlc-stats"], says=["tf1-15-0", "running"]),
    Form("mlc-stop NAME", ["mlc-stop", "tf1.15.0"], says=["stopped"]),
    Form("mlc-start NAME CMD", ["mlc-start", "tf1.15.0", "test", "-d", "/data"]),
    Form("mlc-stop NAME -Y", ["mlc-stop", "tf1.15.0", "-Y"], says=["stopped"]),
    Form("mlc-remove NAME (no terminal: asks for -f)", ["mlc-remove", "tf1.15.0"], 2, ["-f"]),
    Form("mlc-remove NAME -Y", ["mlc-remove", "tf1.15.0", "-Y"], says=["workspace", "untouched"]),
    Form("mlc-update-sys", ["mlc-update-sys"], says=["DS01 ", "Nothing was changed"]),
    # v2 (mlc SUB) through the dispatcher.
    Form("mlc -h", ["mlc", "-h"], says=["update-sys", "create"]),
    Form("mlc -v", ["mlc", "-v"], says=["DS01"]),
    Form("mlc create -h", ["mlc", "create", "-h"], says=["-m DIR"]),
    Form("mlc create --info", ["mlc", "create", "--info"], says=["Pytorch", "2.8.0", IMAGE, "yes"]),
    Form("mlc-create (no arguments: the table)", ["mlc-create"], says=["Tensorflow", "2.16.1"]),
    Form("mlc create NAME FW VER -w DIR -d DIR -m DIR -s -arch ARCH",
         ["mlc", "create", "my-container", "Pytorch", "2.6.0", "-w", f"{HOME}/ws-pt", "-d", f"{HOME}/data",
          "-m", f"{HOME}/models", "-s", "-arch", "CUDA_AMPERE"], says=["-> /models", "-arch CUDA_AMPERE ignored"]),
    Form("mlc open NAME -s", ["mlc", "open", "my-container", "-s"], 2, ["terminal"]),
    Form("mlc start NAME -s", ["mlc", "start", "my-container", "-s"], says=["started"]),
    Form("mlc start NAME CMD", ["mlc", "start", "my-container", "test", "-d", "/models"]),
    Form("mlc create NAME FW VER -g all", ["mlc", "create", "g-all", "pytorch", "2.8", "-g", "all"],
         says=["-g all: 1 GPU slot, as many as your limits"]),
    Form("mlc list", ["mlc", "list"], says=["my-container", "g-all", "pytorch-2.8.0"]),
    Form("mlc list -a", ["mlc", "list", "-a"], says=["g-all", "created"]),
    Form("mlc list -au (a student)", ["mlc", "list", "-au"], 4, ["permission denied"]),
    Form("mlc list -au (an admin)", ["mlc", "list", "-au"], says=["USER", "ds01t-i15-ana"], who="admin"),
    Form("mlc stats", ["mlc", "stats"], says=["my-container"]),
    Form("mlc stop NAME -s", ["mlc", "stop", "g-all", "-s"], says=["stopped"]),
    Form("mlc stop NAME -f", ["mlc", "stop", "my-container", "-f"], says=["stopped"]),
    Form("mlc stop NAME -Y", ["mlc", "stop", "my-container", "-Y"], says=["stopped"]),
    Form("mlc remove NAME -f", ["mlc", "remove", "my-container", "-f"], says=["workspace"]),
    Form("mlc remove NAME -Y", ["mlc", "remove", "g-all", "-Y"], says=["GPU"]),
    Form("mlc update-sys -f (an admin)", ["mlc", "update-sys", "-f"], says=["make install"], who="admin"),
]


def run_form(site, form):
    user = site[form.who]
    argv = [word.replace(HOME, str(site["home"])) for word in form.argv]
    return run_command(argv[0], *argv[1:], user=user.pw_name, bin_dir=site["bin"], env=site["env"], timeout=90)


def test_every_documented_aime_form_has_its_ds01_outcome(site):
    failures = []
    for form in FORMS:
        result = run_form(site, form)
        output = result.stdout + result.stderr
        missing = [text for text in form.says if text not in output]
        if result.returncode != form.code or missing or "unrecognized arguments" in output or "Traceback" in output:
            failures.append(f"{form.aime}: exit {result.returncode} (want {form.code}), missing {missing}:\n{output}")
    assert not failures, "\n\n".join(failures)
    # What the forms left behind: workspaces kept, /data and /models were mounted, nothing else remains.
    assert (site["home"] / "ws-tf").is_dir() and (site["home"] / "ws-pt").is_dir()
    left = site["docker"].api.containers(all=True, filters={"label": f"ds01.user={site['student'].pw_name}"})
    assert left == []


def test_image_create_builds_from_the_framework_table(docker_env, unique):
    write_config(docker_env, {"images": {"base": IMAGE, "frameworks": FRAMEWORKS}})
    project = f"fw{unique}"
    (docker_env["workspace_root"] / project).mkdir(parents=True)
    dockerfile = docker_env["workspace_root"] / project / "Dockerfile"
    reference = None
    try:
        listed = run_command("image-create", "--list-frameworks")
        assert listed.returncode == 0 and "Pytorch" in listed.stdout and "yes" in listed.stdout
        # A project with its own blueprint on another base: the framework replaces only its FROM.
        first = run_command("image-create", project, "--template", "custom", "--base", "example/other:1",
                            "--no-build")
        assert first.returncode == 0, first.stderr
        with dockerfile.open("a") as blueprint:
            blueprint.write("RUN echo mine > /mine\n")
        built = run_command("image-create", project, "--framework", "pytorch", "--version", "2.8")
        assert built.returncode == 0, built.stderr
        reference = built.stdout.split("built ")[-1].split()[0]
        text = dockerfile.read_text()
        assert f"FROM {IMAGE}" in text and "RUN echo mine > /mine" in text
        assert "FROM example/other:1" in (dockerfile.parent / "Dockerfile.previous").read_text()
        ran = docker_env["docker"].containers.run(reference, ["cat", "/mine"], remove=True)
        assert ran.decode().strip() == "mine"
        unknown = run_command("image-create", project, "--framework", "pytorch", "--version", "0.1")
        assert unknown.returncode == 1 and "available: Pytorch 2.8.0" in unknown.stderr
    finally:
        if reference:
            subprocess.run(["docker", "rmi", "-f", reference], capture_output=True)
