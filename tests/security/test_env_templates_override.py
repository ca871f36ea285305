"""Attack: `DS01_TEMPLATES_DIR=~/tpl image-create ...` made an installed DS01 build from templates
the user wrote; like DS01_CONFIG/DS01_STATE_DIR it is honoured only for root (or a checkout)."""

import os

from attack_site import as_user, ds01


def test_a_users_own_templates_dir_is_ignored_by_an_installed_copy(site):
    mallory = site["mallory"]
    planted = f"{mallory.pw_dir}/tpl"
    marker = "planted-by-mallory"
    assert as_user(site, "mallory", f"mkdir -p {planted} && for name in general custom; do "
                   f"printf 'FROM {{{{BASE_IMAGE}}}}\\nLABEL {marker}=1\\n' > {planted}/Dockerfile.$name; done"
                   ).returncode == 0
    made = ds01(site, "mallory", "image-create", "tplproj", "--no-build", env={"DS01_TEMPLATES_DIR": planted})
    assert made.returncode == 0, made.stderr
    dockerfile = f"{mallory.pw_dir}/workspace/tplproj/Dockerfile"
    assert os.path.isfile(dockerfile) and marker not in open(dockerfile).read()
