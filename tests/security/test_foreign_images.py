"""Attack: `--image` ran (and `--save-changes` copies let others run) another user's private
image; any image at all could be named."""

import subprocess

import yaml
from attack_site import IMAGE, containers_of, ds01, one_line, remove_containers_of


def test_another_users_private_image_is_exit_4_by_name_by_id_and_as_a_saved_copy(site):
    victor = site["victor"]
    made = ds01(site, "victor", "container-create", "thesis", "--cpu-only", "--image", IMAGE)
    assert made.returncode == 0, made.stderr
    saved = ds01(site, "victor", "container-retire", "thesis", "--save-changes", "--yes")
    assert saved.returncode == 0, saved.stderr
    [copy] = [tag for image in site["docker"].images.list(name=f"ds01-{victor.pw_name}/thesis") for tag in image.tags]
    image_id = site["docker"].images.get(copy).id
    try:
        for reference in (copy, image_id, image_id.split(":")[1][:12]):
            stolen = ds01(site, "mallory", "container-create", "stolen", "--cpu-only", "--image", reference)
            assert stolen.returncode == 4, (reference, stolen.stderr)
            assert "permission denied" in one_line(stolen)
        assert containers_of(site, "mallory") == []
    finally:
        subprocess.run(["docker", "rmi", "-f", copy], capture_output=True)


def test_only_configured_and_allowed_images_may_be_named(site):
    config_path = site["env"]["DS01_CONFIG"]
    original = config_path.read_text()
    # An image of its own (not merely another tag of a configured one).
    subprocess.run(["docker", "build", "-q", "-t", "i11-lab/tool:1", "-"], input=f"FROM {IMAGE}\nLABEL i11=tool\n",
                   text=True, check=True, capture_output=True)
    try:
        refused = ds01(site, "mallory", "container-create", "tool", "--cpu-only", "--image", "i11-lab/tool:1")
        assert refused.returncode == 4 and "images.allowed" in one_line(refused)
        nowhere = ds01(site, "mallory", "container-create", "tool", "--cpu-only", "--image", "i11-nowhere/x:1")
        assert nowhere.returncode == 1 and "not on this server" in one_line(nowhere)
        config = yaml.safe_load(original)
        config["images"]["allowed"] = ["i11-lab/*"]
        config_path.write_text(yaml.safe_dump(config))
        allowed = ds01(site, "mallory", "container-create", "tool", "--cpu-only", "--image", "i11-lab/tool:1")
        assert allowed.returncode == 0, allowed.stderr
        framework = ds01(site, "mallory", "container-create", "base", "--cpu-only", "--image", IMAGE)
        assert framework.returncode == 0, framework.stderr
    finally:
        config_path.write_text(original)
        remove_containers_of(site, "mallory")
        subprocess.run(["docker", "rmi", "i11-lab/tool:1"], capture_output=True)
