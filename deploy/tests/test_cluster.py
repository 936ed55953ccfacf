"""Dry runs of the cluster jobs in deploy/: the Slurm array and the Kubernetes Indexed Job.

Each test validates the job files (bash syntax; the Kubernetes API schema, offline, with
kubernetes-validate), then runs exactly the commands the scheduler would run, on this machine,
for every task index, with the `tiny` preset, and checks that the merged dataset is byte for
byte the one a single `avwm data generate` writes.
"""

import os
import re
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
AVWM = os.environ.get("AVWM_BIN", str(ROOT / "target" / "debug" / "avwm"))
KUBERNETES_VERSION = "1.31"


def run(args, env=None):
    res = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, f"{args}: {res.stderr}"
    return res


def tree(d: Path) -> dict:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def single_run(tmp_path_factory) -> dict:
    """The files of one single-machine run of the tiny preset (made once for the module)."""
    out = tmp_path_factory.mktemp("single") / "tiny"
    run([AVWM, "data", "generate", "--preset", "tiny", "--out", str(out)])
    return tree(out)


def test_slurm_array_then_merge_equals_one_machine(tmp_path, single_run):
    for script in ["generate.sbatch", "merge.sbatch", "submit.sh"]:
        run(["bash", "-n", str(DEPLOY / "slurm" / script)])
    text = (DEPLOY / "slurm" / "generate.sbatch").read_text()
    n = int(re.search(r"^#SBATCH --array=0-(\d+)$", text, re.M).group(1)) + 1
    out = tmp_path / "shared"
    base = dict(os.environ, AVWM=AVWM, AVWM_OUT=str(out), AVWM_PRESET="tiny")
    # Slurm runs the batch script once per array task with these variables set.
    for i in range(n):
        env = dict(base, SLURM_ARRAY_TASK_ID=str(i), SLURM_ARRAY_TASK_COUNT=str(n),
                   SLURM_CPUS_PER_TASK="0")
        run(["bash", str(DEPLOY / "slurm" / "generate.sbatch")], env)
    assert not (out / "info.json").exists()
    run(["bash", str(DEPLOY / "slurm" / "merge.sbatch")], base)
    assert tree(out) == single_run


def test_slurm_script_refuses_to_run_outside_an_array(tmp_path):
    env = dict(os.environ, AVWM=AVWM, AVWM_OUT=str(tmp_path / "x"))
    env.pop("SLURM_ARRAY_TASK_ID", None)
    res = subprocess.run(["bash", str(DEPLOY / "slurm" / "generate.sbatch")], env=env,
                         capture_output=True, text=True)
    assert res.returncode != 0 and "array" in res.stderr


def load(name):
    docs = list(yaml.safe_load_all((DEPLOY / "k8s" / name).read_text()))
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    return docs


def expand(arg: str, env: dict) -> str:
    """The kubelet's $(VAR) expansion of a container argument."""
    return re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], arg)


def container_command(job, env, mount: Path):
    c = job["spec"]["template"]["spec"]["containers"][0]
    mount_path = c["volumeMounts"][0]["mountPath"]
    args = [expand(a, env) for a in c["args"]]
    args = [a.replace(mount_path, str(mount)) for a in args]
    # The test's scale: the tiny preset on this machine's cores.
    for flag, value in [("--preset", "tiny"), ("--threads", "0")]:
        if flag in args:
            args[args.index(flag) + 1] = value
    assert c["command"] == ["avwm"]
    return [AVWM] + args


def test_kubernetes_indexed_job_then_merge_equals_one_machine(tmp_path, single_run):
    (claim,) = load("volume.yaml")
    (job,) = load("generate.yaml")
    (merge,) = load("merge.yaml")
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    n = spec["completions"]
    c = spec["template"]["spec"]["containers"][0]
    assert f"$(SHARD_INDEX)/{n}" in c["args"], "the shard count is the job's completions"
    index_env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in c["env"]}
    assert index_env["SHARD_INDEX"] == (
        "metadata.annotations['batch.kubernetes.io/job-completion-index']")
    for j in (job, merge):
        vol = j["spec"]["template"]["spec"]["volumes"][0]
        assert vol["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert "ReadWriteMany" in claim["spec"]["accessModes"]
    mount = tmp_path / "volume"
    for i in range(n):
        run(container_command(job, {"SHARD_INDEX": str(i)}, mount))
    run(container_command(merge, {}, mount))
    out = mount / "avw4k"
    assert tree(out) == single_run


def test_kubernetes_schema_catches_a_broken_job():
    (job,) = load("generate.yaml")
    job["spec"]["completions"] = "sixteen"
    try:
        kubernetes_validate.validate(job, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError:
        return
    raise AssertionError("a string completions count passed the schema")
