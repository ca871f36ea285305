"""Attack: `mlc-create -w ANY_DIR` mounted any host directory the user named; root's cron then
wrote .ds01-alerts there (and took over a root-only file); a link swapped in after the check
was followed."""

import os
import shutil

from attack_site import IMAGE, as_user, containers_of, ds01, fingerprint, one_line, remove_containers_of
from ds01common import identity, lifecycle


def test_a_workspace_or_data_dir_outside_the_users_own_is_refused_with_exit_4(site):
    mallory, victor = site["mallory"], site["victor"]
    os.makedirs(f"{victor.pw_dir}/workspace/thesis", exist_ok=True)
    link = f"{mallory.pw_dir}/rootdir"
    assert as_user(site, "mallory", f"ln -sfn /root {link}").returncode == 0
    attempts = [("-w", "/etc"), ("-w", f"{victor.pw_dir}/workspace/thesis"), ("-w", link),
                ("-w", f"{mallory.pw_dir}/workspace/../../.."), ("-d", "/"), ("-d", link)]
    for flag, target in attempts:
        result = ds01(site, "mallory", "mlc-create", "box", "busybox", "1.36", "-g", "0", flag, target)
        assert result.returncode == 4, (flag, target, result.stderr)
        assert "permission denied" in one_line(result)
    assert containers_of(site, "mallory") == []


def test_a_workspace_swapped_for_a_link_after_the_create_is_not_mounted_at_start(site):
    mallory = site["mallory"]
    try:
        made = ds01(site, "mallory", "container-create", "swap", "--cpu-only", "--image", IMAGE)
        workspace = f"{mallory.pw_dir}/workspace/swap"
        assert made.returncode == 0, made.stderr
        swapped = as_user(site, "mallory", f"mv {workspace} {workspace}.old && ln -s / {workspace}")
        assert swapped.returncode == 0, swapped.stderr
        started = ds01(site, "mallory", "container-start", "swap")
        assert started.returncode == 4 and "symlink" in one_line(started)
        [name] = containers_of(site, "mallory")
        assert site["docker"].containers.get(name).status != "running"
    finally:
        remove_containers_of(site, "mallory")


def test_crons_alert_never_writes_through_a_link_in_the_workspace(site):
    mallory = site["mallory"]
    workspace = f"{mallory.pw_dir}/workspace/alerts"
    shutil.rmtree(workspace, ignore_errors=True)
    assert as_user(site, "mallory", f"mkdir -p {workspace} && ln -s {site['secret']} {workspace}/.ds01-alerts"
                   ).returncode == 0
    before = fingerprint(site["secret"])
    owner = identity.lookup_user(mallory.pw_name)
    lifecycle.append_alert(workspace, "alerts is idle", owner)  # as root, as cron does
    assert fingerprint(site["secret"]) == before


def test_a_data_root_the_admin_approved_mounts_what_the_user_can_read_and_refuses_the_rest(site):
    """config data_roots: -d/-m may name a directory under an approved root that the user can read
    (owned by anyone); an unreadable one, a link below the root, or a workspace there is exit 4."""
    import yaml
    from attack_site import base_config

    datasets = site["root"] / "datasets"
    for name, mode in (("", 0o755), ("public", 0o755), ("public/models", 0o555), ("private", 0o700),
                       ("open", 0o1777)):
        (datasets / name).mkdir(exist_ok=True)
        (datasets / name).chmod(mode)
    assert as_user(site, "mallory", f"ln -sfn /root {datasets}/open/rootdir").returncode == 0
    config_path = site["root"] / "resource-limits.yaml"
    before = config_path.read_text()
    config_path.write_text(yaml.safe_dump({**base_config(), "data_roots": [str(datasets)]}))
    try:
        made = ds01(site, "mallory", "mlc-create", "shared", "busybox", "1.36", "-g", "0",
                    "-d", f"{datasets}/public", "-m", f"{datasets}/public/models")
        assert made.returncode == 0, made.stderr
        [name] = containers_of(site, "mallory")
        mounts = {mount["Destination"]: mount["Source"]
                  for mount in site["docker"].containers.get(name).attrs["Mounts"]}
        assert (mounts["/data"], mounts["/models"]) == (f"{datasets}/public", f"{datasets}/public/models")
        started = ds01(site, "mallory", "container-start", "shared")  # the mounts are checked again at start
        assert started.returncode == 0, started.stderr
        for flag, target, words in (("-d", f"{datasets}/private", "cannot read"),
                                    ("-m", f"{datasets}/private", "cannot read"),
                                    ("-d", f"{datasets}/open/rootdir", "symlink"),
                                    ("-w", f"{datasets}/public", "not under")):
            refused = ds01(site, "mallory", "mlc-create", "other", "busybox", "1.36", "-g", "0", flag, target)
            assert refused.returncode == 4 and words in one_line(refused), (flag, target, refused.stderr)
        assert containers_of(site, "mallory") == [name]
    finally:
        config_path.write_text(before)
        remove_containers_of(site, "mallory")
