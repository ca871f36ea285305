"""container-export on one server: the command writes the batch script or the Job manifest
for the caller's project, from the caller's limits, without Slurm or Kubernetes."""

import kubernetes_validate
import yaml
from ds01common.commands import container_export
from helpers import write_config


def test_export_to_k8s_writes_a_valid_job_for_the_callers_project(ds01_env, tmp_path, capsys):
    write_config(ds01_env, {"workspace_root": str(tmp_path / "ws"), "defaults": {"max_cpus": 2, "memory": "1g"}})
    target = tmp_path / "job.yaml"
    assert container_export.main(["thesis", "--to", "k8s", "--image", "busybox:1.36", "--cpu-only",
                                  "-o", str(target), "--", "sh", "-c", "echo hi"]) == 0
    manifest = yaml.safe_load(target.read_text())
    kubernetes_validate.validate(manifest, "1.30.0", strict=True)
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["sh", "-c", "echo hi"] and container["image"] == "busybox:1.36"
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "1024Mi"}
    assert "wrote k8s Job manifest for thesis" in capsys.readouterr().out


def test_export_to_slurm_prints_the_batch_script(ds01_env, tmp_path, capsys):
    write_config(ds01_env, {"workspace_root": str(tmp_path / "ws")})
    assert container_export.main(["thesis", "--to", "slurm", "--image", "busybox:1.36"]) == 0
    script = capsys.readouterr().out
    assert script.startswith("#!/bin/sh\n#SBATCH --job-name=ds01-thesis")
    assert "#SBATCH --gres=gpu:1" in script and "sh /workspace/run.sh" in script
