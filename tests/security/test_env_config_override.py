"""Attack: `DS01_CONFIG=~/my.yaml` made a student an admin and lifted every quota."""

import yaml
from attack_site import IMAGE, containers_of, ds01, one_line, remove_containers_of


def test_a_users_own_config_neither_lifts_quotas_nor_makes_them_an_admin(site):
    mallory = site["mallory"]
    generous = {"default_group": "student", "admin_group": "ds01t-i11-mal",
                "defaults": {"max_mig_instances": 4, "max_gpus_per_container": 4, "max_containers_per_user": 50},
                "groups": {"student": {"members": []}}, "images": {"base": IMAGE}}
    own = f"{mallory.pw_dir}/my.yaml"
    with open(own, "w") as handle:
        handle.write(yaml.safe_dump(generous))
    env = {"DS01_CONFIG": own}
    victim = ds01(site, "victor", "container-create", "thesis", "--cpu-only", "--image", IMAGE)
    assert victim.returncode == 0, victim.stderr
    try:
        greedy = ds01(site, "mallory", "container-create", "greedy", "--gpus", "2", "--image", IMAGE, env=env)
        assert greedy.returncode == 3 and "max_gpus_per_container" in one_line(greedy)
        assert containers_of(site, "mallory") == []
        retire = ds01(site, "mallory", "container-retire", "thesis", "--user", site["victor"].pw_name, "--yes",
                      env=env)
        assert retire.returncode == 4 and "permission denied" in one_line(retire)
        assert containers_of(site, "victor") == [f"thesis._.{site['victor'].pw_uid}"]
    finally:
        remove_containers_of(site, "victor")
