"""Attacks replayed as real users against an installed DS01 (issue 11): one module per attack.

`site` is an installed copy (docker-group mode, as most servers run) with its own baked-in
config/state/log dirs, a simulated GPU, an attacker (mallory), a victim (victor) and a root-only
secret file the attacks aim at. Each test asserts the contract's exit code and that nothing
changed: the target's content and mode, the quota, other users' containers."""


import pytest
from attack_site import SECRET_TEXT, base_config
from helpers import installed_site, remove_users_docker_objects


@pytest.fixture(scope="package")
def site(shared_root, installed, linux_users, docker_client):
    root = shared_root / "security-site"
    mallory, victor = linux_users("i11-mal"), linux_users("i11-vic")
    env, bin_dir = installed_site(installed, root, base_config())
    secret = root / "secret.txt"
    secret.write_text(SECRET_TEXT)
    secret.chmod(0o600)
    site = {"env": env, "bin": bin_dir, "root": root, "mallory": mallory, "victor": victor,
            "docker": docker_client, "secret": secret, "state": root / "state", "log": root / "log"}
    yield site
    logins = {mallory.pw_name, victor.pw_name}
    remove_users_docker_objects(docker_client, logins)
