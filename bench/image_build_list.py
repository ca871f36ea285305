#!/usr/bin/env python3
"""Image commands against the Docker CLI on the real engine: a cached rebuild of a project image
(DS01's SDK build with its Dockerfile-only context vs `docker build`) and the image listing
(DS01's list with the containers using each image vs `docker images`). Prints medians and ratios."""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent / "lib")]

from ds01common import config as config_module  # noqa: E402
from ds01common import dockerapi, image_store, images  # noqa: E402
from ds01common.identity import User  # noqa: E402
from measure import docker_cli, timed  # noqa: E402

ROUNDS = 10


def main():
    work = Path(tempfile.mkdtemp(prefix="ds01-bench-images-"))
    atexit.register(shutil.rmtree, work, True)  # holds 50 MB of test data: removed even on failure
    (work / "config.yaml").write_text(f"workspace_root: {work}/ws\nimages: {{base: ds01-test/busybox:latest}}\n")
    os.environ["DS01_LOG_DIR"] = str(work)
    config = config_module.load(work / "config.yaml")
    user = User("benchuser", "benchuser", 4242, 4242, str(work))
    project = "benchproj"
    images.write_dockerfile(config, user, project, template="custom")
    project_dir = images.project_dir(config, user, project)
    (project_dir / "data").mkdir()
    (project_dir / "data" / "big.bin").write_bytes(os.urandom(50 * 1024 * 1024))  # what a workspace holds
    docker = dockerapi.connect()
    image_store.build(docker, config, user, project, log_dir=work)
    reference = f"ds01-{user.name}/{project}:latest"
    cli_build = ["docker", "build", "-q", "-t", reference, "--build-arg", "DS01_UID=4242",
                 "--build-arg", "DS01_GID=4242", "--build-arg", "DS01_USER=benchuser",
                 "--label", "ds01.managed=true", "--label", "ds01.user=benchuser",
                 "--label", f"ds01.project={project}", str(project_dir)]
    env = dict(os.environ, DOCKER_BUILDKIT="0")
    ds01_build = timed(lambda: image_store.build(docker, config, user, project, log_dir=work))
    docker_build = timed(lambda: subprocess.run(cli_build, check=True, capture_output=True, env=env))
    ds01_list = timed(lambda: image_store.list_images(docker, user))
    docker_list = timed(docker_cli("images", "--filter", "label=ds01.user=benchuser", "--format", "{{json .}}"))
    print(f"cached rebuild (50 MB in data/): ds01 {ds01_build * 1000:.0f} ms, docker build "
          f"{docker_build * 1000:.0f} ms, ratio {ds01_build / docker_build:.2f}")
    print(f"image list: ds01 {ds01_list * 1000:.0f} ms, docker images {docker_list * 1000:.0f} ms, "
          f"ratio {ds01_list / docker_list:.2f}")
    docker.images.remove(reference, force=True)


if __name__ == "__main__":
    main()
