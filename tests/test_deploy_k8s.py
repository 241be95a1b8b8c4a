"""deploy/k8s/, checked with kubernetes-validate and against the Dockerfile's serving
stage: probes, limits, security and autoscaling."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.deployment import run, stage_env, stages, tool, values

K8S = REPO / "deploy" / "k8s"
K8S_VERSIONS = ["1.30.0", "1.37.0"]  # the oldest we claim and kubernetes-validate's newest


def manifests() -> dict[str, dict]:
    docs = [d for f in sorted(K8S.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text())]
    return {d["kind"]: d for d in docs if d}


def validate_k8s(paths: list[Path], version: str) -> subprocess.CompletedProcess:
    return run([tool("kubernetes-validate"), "--strict", "-k", version, *map(str, paths)], cwd=REPO)


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_k8s_manifests_match_the_kubernetes_schemas(version):
    files = sorted(K8S.glob("*.yaml"))
    assert len(files) >= 3
    result = validate_k8s(files, version)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" passed for resource ") == len(files)


def test_k8s_validation_rejects_mistakes(tmp_path):
    """Strict validation can fail: a misspelt probe and a string replica count are caught."""
    for mutate in [
        lambda d: d["spec"]["template"]["spec"]["containers"][0].update(livenesProbe={}),
        lambda d: d["spec"].update(replicas="2"),
    ]:
        deployment = manifests()["Deployment"]
        mutate(deployment)
        path = tmp_path / "deployment.yaml"
        path.write_text(yaml.safe_dump(deployment))
        assert validate_k8s([path], K8S_VERSIONS[-1]).returncode != 0


def test_k8s_probes_limits_and_security():
    kinds = manifests()
    assert {"Deployment", "Service", "HorizontalPodAutoscaler"} <= set(kinds)
    deployment = kinds["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    serve = stages()["serve"]

    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": int(values(serve, "EXPOSE")[0])}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind])

    uid = int(values(serve, "USER")[-1].split(":")[0])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == uid
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    # With a read-only root, /tmp (upload spooling) and the workers' metrics folder must be
    # writable emptyDirs (the latter in memory).
    tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")
    assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == tmp["name"])
    env = {e["name"]: e.get("value") for e in container["env"]}
    metrics_dir = stage_env(serve)["PROMETHEUS_MULTIPROC_DIR"]
    assert env["PROMETHEUS_MULTIPROC_DIR"] == metrics_dir and "WEB_CONCURRENCY" not in env
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == metrics_dir)
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["emptyDir"]["medium"] == "Memory"

    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = kinds["Service"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"

    hpa = kinds["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
