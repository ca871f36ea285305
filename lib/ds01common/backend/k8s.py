"""A DS01 container as a Kubernetes Job manifest (container-export --to k8s): the image, the
GPUs as `nvidia.com/gpu` (or `nvidia.com/mig-<profile>` under the NVIDIA device plugin's
mixed strategy), CPU and memory as requests and limits, the workspace as a volume, and the
user's uid. Pure: a mapping ready for YAML, checked offline against Kubernetes' schema in tests.
"""

from __future__ import annotations

import re
from typing import Any

from .. import labels as label
from ..ports import SERVICE_PORT
from .jobspec import CONTAINER_WORKSPACE, JobRequest

MIG_PROFILE = re.compile(r"^[1-7]g\.\d+gb$")


def dns_label(text: str, limit: int = 63) -> str:
    """A DNS-1123 label (lower case, digits, '-'; starts and ends alphanumeric)."""
    label = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:limit].strip("-")
    return label or "ds01"


def label_value(text: str) -> str:
    value = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:63].strip("-_.")
    return value or "none"


def gpu_resource(request: JobRequest) -> str:
    if request.gpu_type and MIG_PROFILE.match(request.gpu_type) and not request.full_gpu:
        return f"nvidia.com/mig-{request.gpu_type}"
    return "nvidia.com/gpu"


def job_manifest(request: JobRequest, command: list[str]) -> dict[str, Any]:
    resources: dict[str, str] = {}
    if request.cpus:
        resources["cpu"] = str(request.cpus)
    if request.memory_mb:
        resources["memory"] = f"{request.memory_mb}Mi"
    if request.gpu_count:
        resources[gpu_resource(request)] = str(request.gpu_count)
    # Extended resources (GPUs) must have request == limit; equal requests and limits also give
    # the pod the Guaranteed QoS class, the closest match to DS01's fixed per-container limits.
    container: dict[str, Any] = {
        "name": dns_label(request.name),
        "image": request.image,
        "command": command,
        "workingDir": CONTAINER_WORKSPACE,
        # HOME as on one server (the image's ds01.home, else /tmp); the workspace is the working dir.
        "env": [{"name": "HOME", "value": request.home}, {"name": "USER", "value": request.user},
                {"name": "DS01_CONTAINER", "value": request.name}],
        # The service port DS01 forwards on one server (JupyterLab & co.); reach it with a Service
        # or `kubectl port-forward`.
        "ports": [{"name": "service", "containerPort": SERVICE_PORT, "protocol": "TCP"}],
        "resources": {"requests": dict(resources), "limits": dict(resources)},
        "volumeMounts": [{"name": "workspace", "mountPath": CONTAINER_WORKSPACE},
                         {"name": "dshm", "mountPath": "/dev/shm"}],
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": request.uid != 0},
    }
    shm: dict[str, Any] = {"medium": "Memory"}
    if request.shm_size:
        shm["sizeLimit"] = f"{max(1, request.shm_size // 2**20)}Mi"
    labels = {"app.kubernetes.io/managed-by": "ds01", label.MANAGED: label.MANAGED_VALUE,
              label.USER: label_value(request.user), label.PROJECT: label_value(request.name)}
    spec: dict[str, Any] = {
        "backoffLimit": 0,
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "restartPolicy": "Never",
                "securityContext": {"runAsUser": request.uid, "runAsGroup": request.gid, "fsGroup": request.gid},
                "containers": [container],
                "volumes": [
                    # The workspace lives on shared storage mounted on every node (as for Slurm);
                    # swap hostPath for a persistentVolumeClaim where the cluster has one.
                    {"name": "workspace", "hostPath": {"path": request.workspace, "type": "Directory"}},
                    {"name": "dshm", "emptyDir": shm},
                ],
            },
        },
    }
    if request.minutes:
        spec["activeDeadlineSeconds"] = request.minutes * 60
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": dns_label(f"ds01-{request.user}-{request.name}"), "labels": labels},
            "spec": spec}
