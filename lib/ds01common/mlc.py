"""AIME-style `mlc-*` commands on top of containers.py: FRAMEWORK VERSION name an image
through the config's `images.frameworks` ("<framework>-<version>": image)."""

from . import containers
from . import labels as label
from .errors import NotFound

LABEL_FRAMEWORK = label.MLC_FRAMEWORK


def framework_key(framework, version):
    return f"{framework.strip().lower()}-{version.strip()}"


def available(config):
    """[(framework, version, image)] from the config, sorted."""
    pairs = []
    for key, image in sorted(config.frameworks.items()):
        framework, _, version = key.partition("-")
        pairs.append((framework, version, image))
    return pairs


def resolve_framework(config, framework, version):
    """The image for FRAMEWORK VERSION; NotFound listing every known pair otherwise."""
    frameworks = {key.lower(): image for key, image in config.frameworks.items()}
    key = framework_key(framework, version)
    if key in frameworks:
        return frameworks[key]
    known = ", ".join(f"{name} {ver}" for name, ver, _ in available(config)) or "none configured"
    raise NotFound(f"no image for framework {framework} {version}; available: {known} "
                   "(admins add more under images.frameworks in resource-limits.yaml)")


def create(docker, config, user, name, framework, version, *, workspace=None, data_dir=None,
           gpus=None, wait=None, state_dir, log_dir):
    image = resolve_framework(config, framework, version)
    return containers.create(docker, config, user, name, image=image, gpus=gpus,
                             cpu_only=gpus == 0, wait=wait, state_dir=state_dir, log_dir=log_dir,
                             workspace=workspace, data_dir=data_dir,
                             extra_labels={LABEL_FRAMEWORK: framework_key(framework, version)})


def list_rows(docker, user):
    """Listing rows with the framework the container was made from (blank for non-mlc ones)."""
    rows = []
    for entry in containers.list_entries(docker, user):
        item = containers.summary(entry)
        item["framework"] = (entry.get("Labels") or {}).get(LABEL_FRAMEWORK)
        rows.append(item)
    return rows
