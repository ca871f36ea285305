"""Attack: an admin rebuilding a user's image followed the user's symlinked requirements file
(and build context) into root-only files; root-run git in a user's repository ran their hooks."""

from attack_site import as_user, ds01, fingerprint, one_line


def project(site, name):
    made = ds01(site, "mallory", "image-create", name, "--template", "custom", "--no-build")
    assert made.returncode == 0, made.stderr
    return f"{site['mallory'].pw_dir}/workspace/{name}"


def test_an_admins_requirements_copy_never_reads_a_root_only_file_through_the_users_link(site):
    directory = project(site, "reqs")
    link = f"{site['mallory'].pw_dir}/req.txt"
    assert as_user(site, "mallory", f"ln -sfn {site['secret']} {link}").returncode == 0
    before = fingerprint(site["secret"])
    result = ds01(site, "root", "image-update", "reqs", "--user", site["mallory"].pw_name,
                  "--requirements", link, "--no-build")
    assert result.returncode == 4 and "permission denied" in one_line(result)
    assert fingerprint(site["secret"]) == before
    assert as_user(site, "mallory", f"cat {directory}/requirements.txt 2>/dev/null").stdout == ""


def test_an_admins_rebuild_reads_the_build_context_as_the_user(site):
    directory = project(site, "ctx")
    assert as_user(site, "mallory", f"ln -sfn {site['secret']} {directory}/requirements.txt").returncode == 0
    result = ds01(site, "root", "image-update", "ctx", "--user", site["mallory"].pw_name)
    assert result.returncode == 4 and "permission denied" in one_line(result)
    images = site["docker"].images.list(name=f"ds01-{site['mallory'].pw_name}/ctx")
    assert images == []
