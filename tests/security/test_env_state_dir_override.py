"""Attack: `DS01_STATE_DIR=~/private` gave a user a ledger of their own: a GPU slot an admin had
revoked and given to someone else was used again (two containers on one MIG slot)."""

import os

from attack_site import IMAGE, containers_of, ds01, one_line, remove_containers_of


def test_a_private_state_dir_is_ignored_and_the_real_ledger_still_counts_the_slot(site):
    private = os.path.join(site["mallory"].pw_dir, "private")
    os.makedirs(private, exist_ok=True)
    os.chown(private, site["mallory"].pw_uid, site["mallory"].pw_gid)
    env = {"DS01_STATE_DIR": private, "DS01_LOG_DIR": private, "DS01_RESERVATION_TIMEOUT": "0"}
    try:
        first = ds01(site, "mallory", "container-create", "one", "--gpus", "1", "--image", IMAGE, env=env)
        assert first.returncode == 0, first.stderr
        second = ds01(site, "mallory", "container-create", "two", "--gpus", "1", "--image", IMAGE, env=env)
        assert second.returncode == 3 and "max_mig_instances" in one_line(second)
        assert os.listdir(private) == []
        assert (site["state"] / "gpu-state.json").is_file()
        assert containers_of(site, "mallory") == [f"one._.{site['mallory'].pw_uid}"]
    finally:
        remove_containers_of(site, "mallory")
