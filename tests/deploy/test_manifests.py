"""Kubernetes manifests and Temporal's Helm values under deploy/k8s: structure and wiring."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.support import (
    DEPLOY,
    K8S,
    PLACEHOLDER,
    all_containers,
    configmap_data,
    container_port,
    deployment,
    is_unpinned,
    manifest_files,
    manifests,
    of_kind,
    pod_spec,
    probe_port,
    settings_env_names,
)

API = "exportflow-api"
WORKER = "exportflow-worker"
BUNDLED_CHARTS = ("cassandra", "elasticsearch", "prometheus", "grafana", "mysql", "postgresql")


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_every_manifest_names_its_api_version_kind_and_name(path: Path) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert docs, f"{path.name} holds no object"
    for doc in docs:
        assert doc.get("apiVersion"), path.name
        assert doc.get("kind"), path.name
        assert isinstance(doc.get("metadata", {}).get("name"), str), path.name


def test_kustomization_lists_every_manifest_but_the_secret_template() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    templates = {p.name for p in manifest_files() if p.name.endswith(".example.yaml")}
    assert templates, "the Secret template secret.example.yaml is missing"
    assert listed == {p.name for p in manifest_files()} - templates
    # Applying the template with the rest would overwrite the real credentials.
    assert not listed & templates


def test_secrets_hold_only_placeholders() -> None:
    secrets = of_kind("Secret")
    assert secrets, "no Secret template"
    for secret in secrets:
        assert "data" not in secret, "base64 data hides what is committed: use stringData"
        for key, value in secret["stringData"].items():
            assert PLACEHOLDER in value, f"{key} of Secret {secret['metadata']['name']}"


def test_configmap_holds_known_settings_as_strings_and_no_credentials() -> None:
    data = configmap_data()
    known = settings_env_names()
    for key, value in data.items():
        assert isinstance(value, str), f"{key}: ConfigMap values must be quoted strings"
        assert key in known, f"{key} is not a setting of services/config.py (typo?)"
    assert "EXPORTFLOW_DATABASE_URL" not in data, "the database URL belongs in the Secret"


def test_api_probes_readyz_and_healthz_on_its_container_port() -> None:
    pod = pod_spec(deployment(API))
    (api,) = pod["containers"]
    port = container_port(api, "http")
    assert probe_port(api, "readinessProbe") == port
    assert probe_port(api, "livenessProbe") == port
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert str(port) == configmap_data()["EXPORTFLOW_API_PORT"]
    assert api["args"][0] == "api"
    assert api["args"][api["args"].index("--port") + 1] == str(port)


def test_api_drains_from_the_load_balancer_before_uvicorn_stops() -> None:
    pod = pod_spec(deployment(API))
    command = pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    # uvicorn finishes in-flight requests for up to 30 s after SIGTERM (services/cli.py).
    assert pod["terminationGracePeriodSeconds"] >= int(command[1]) + 30


def test_api_runs_two_replicas_behind_a_disruption_budget() -> None:
    api = deployment(API)
    assert api["spec"]["replicas"] == 2
    (pdb,) = of_kind("PodDisruptionBudget")
    labels = api["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"].get("minAvailable", 0) >= 1 or "maxUnavailable" in pdb["spec"]


def test_service_selects_the_api_pods_only_and_targets_their_port() -> None:
    (service,) = of_kind("Service")
    selector = service["spec"]["selector"].items()
    api_labels = deployment(API)["spec"]["template"]["metadata"]["labels"].items()
    worker_labels = deployment(WORKER)["spec"]["template"]["metadata"]["labels"].items()
    assert selector <= api_labels
    assert not selector <= worker_labels
    (api,) = pod_spec(deployment(API))["containers"]
    for port in service["spec"]["ports"]:
        assert container_port(api, port["targetPort"]) == container_port(api, "http")


def test_worker_is_probed_on_its_metrics_port_without_http() -> None:
    pod = pod_spec(deployment(WORKER))
    (worker,) = pod["containers"]
    assert worker["args"] == ["worker"]
    port = container_port(worker, "metrics")
    assert str(port) == configmap_data()["EXPORTFLOW_WORKER_METRICS_PORT"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert "httpGet" not in worker.get(probe, {}), f"the worker serves no HTTP ({probe})"
    assert "tcpSocket" in worker["livenessProbe"] or "exec" in worker["livenessProbe"]
    if "tcpSocket" in worker["livenessProbe"]:
        assert probe_port(worker, "livenessProbe") == port
        # The kubelet connects to the pod IP: a listener on loopback would fail every probe.
        assert configmap_data()["EXPORTFLOW_WORKER_METRICS_HOST"] == "0.0.0.0"
    # Activities get 30 s to drain after SIGTERM (services/worker.py).
    assert pod["terminationGracePeriodSeconds"] > 30


def test_hpa_scales_the_worker_deployment_on_cpu() -> None:
    (hpa,) = of_kind("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", WORKER)
    assert hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["maxReplicas"] >= hpa["spec"]["minReplicas"]
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    # A fixed count would fight the HPA on every apply.
    assert "replicas" not in deployment(WORKER)["spec"]


def test_migration_job_runs_db_upgrade_and_cleans_up() -> None:
    (job,) = of_kind("Job")
    (container,) = pod_spec(job)["containers"]
    assert [*container.get("command", []), *container.get("args", [])][-2:] == ["db", "upgrade"]
    assert isinstance(job["spec"]["backoffLimit"], int)
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    assert pod_spec(job)["restartPolicy"] in {"Never", "OnFailure"}


def test_pre_rollout_objects_are_settings_and_the_migration() -> None:
    first = {
        doc["kind"]
        for doc in manifests()
        if doc["metadata"].get("labels", {}).get("exportflow/apply-first") == "true"
    }
    assert first == {"Namespace", "ConfigMap", "Job"}


def test_containers_run_as_non_root_without_privileges() -> None:
    for obj, container in all_containers():
        pod_ctx = pod_spec(obj).get("securityContext", {})
        ctx = {**pod_ctx, **container.get("securityContext", {})}
        where = f"{obj['metadata']['name']}/{container['name']}"
        assert ctx.get("runAsNonRoot") is True, where
        assert ctx.get("runAsUser", 1) != 0, where
        assert ctx.get("allowPrivilegeEscalation") is False, where
        assert "ALL" in ctx.get("capabilities", {}).get("drop", []), where


def test_containers_have_resources_and_pinned_images() -> None:
    for obj, container in all_containers():
        where = f"{obj['metadata']['name']}/{container['name']}"
        resources = container["resources"]
        assert {"cpu", "memory"} <= resources["requests"].keys(), where
        assert "memory" in resources["limits"], where
        assert not is_unpinned(container["image"]), where
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    for image in kustomization.get("images", []):
        assert image.get("newTag", "") not in {"", "latest"} or image.get("digest")


def test_temporal_values_use_postgresql_and_no_bundled_services() -> None:
    values: dict[str, Any] = yaml.safe_load((K8S / "temporal-values.yaml").read_text())
    for chart in BUNDLED_CHARTS:
        assert values.get(chart, {"enabled": False}).get("enabled") is False, chart
    persistence = values["server"]["config"]["persistence"]
    assert isinstance(persistence["numHistoryShards"], int)
    for store in (persistence["defaultStore"], persistence["visibilityStore"]):
        sql = persistence["datastores"][store]["sql"]
        assert sql["pluginName"] == "postgres12", store
        assert sql["existingSecret"], f"{store}: read the password from a Secret"
        assert "password" not in sql, f"{store}: no password in the values file"
    for service in ("frontend", "history", "matching", "worker"):
        assert values["server"][service]["replicaCount"] >= 1, service
    namespaces = {n["name"] for n in values["server"]["config"]["namespaces"]["namespace"]}
    assert configmap_data()["EXPORTFLOW_TEMPORAL_NAMESPACE"] in namespaces
    # The chart names the frontend Service <release>-frontend.
    assert configmap_data()["EXPORTFLOW_TEMPORAL_ADDRESS"].startswith("temporal-frontend.")


def test_readme_documents_every_setting_and_the_helm_install() -> None:
    readme = (DEPLOY / "README.md").read_text()
    for name in settings_env_names():
        assert f"| `{name}` |" in readme, f"{name} missing from the configuration table"
    assert "helm upgrade --install" in readme
    assert "-f deploy/k8s/temporal-values.yaml" in readme


def _kubectl(*args: str) -> subprocess.CompletedProcess[str]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not on PATH: the offline YAML checks above still ran")
    return subprocess.run(
        [kubectl, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_kustomize_renders_exactly_the_listed_objects() -> None:
    rendered = _kubectl("kustomize", str(K8S))
    assert rendered.returncode == 0, rendered.stderr
    docs = [d for d in yaml.safe_load_all(rendered.stdout) if d is not None]
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    expected = {
        (d["kind"], d["metadata"]["name"])
        for name in listed
        for d in yaml.safe_load_all((K8S / name).read_text())
        if d is not None
    }
    assert names == expected


def test_every_manifest_is_valid_against_the_kubernetes_api_schemas() -> None:
    # What `kubectl apply --dry-run=client` checks, without the API server it needs: each
    # object against the schema of its kind, unknown fields refused (strict).
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    docs = [d for name in listed for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    assert docs
    version = kubernetes_validate.latest_version()
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_schema_check_refuses_a_misspelt_field() -> None:
    deployment = next(
        d
        for d in yaml.safe_load_all((K8S / "worker-deployment.yaml").read_text())
        if d and d["kind"] == "Deployment"
    )
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, kubernetes_validate.latest_version(), strict=True)
