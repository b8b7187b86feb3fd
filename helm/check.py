#!/usr/bin/env python3
"""Checks the webwork-scim Helm chart without a helm binary or a cluster.

Lints the chart, renders it with the default values and with each file in helm/ci/, validates
every rendered manifest against the Kubernetes schemas, asserts the facts operations rely on
(probes, security context, graceful shutdown, migration hook order, schema strictness), and
asserts that settings which would deploy something broken fail with a clear message.

Run through helm/check.sh, which installs the two Python packages it needs. Exits non-zero on
any failure.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import helm_python as helm
import kubernetes_validate
import yaml

HERE = Path(__file__).resolve().parent
CHART = HERE / "webwork-scim"
CI_VALUES = sorted((HERE / "ci").glob("*.yaml"))
# The oldest version the chart supports (preStop sleep) and the newest the validator knows.
KUBE_VERSIONS = ["1.30", kubernetes_validate.utils.latest_version()]
RELEASE = "scim"
NAMESPACE = "identity"
SQLITE_REFUSAL = "SQLite supports one replica; use PostgreSQL for more"
# Corners the values files do not reach, rendered and validated like them.
EXTRA_SCENARIOS: list[tuple[str, dict[str, Any]]] = [
    ("sqlite without a volume, locked down", {
        "persistence": {"enabled": False},
        "networkPolicy": {"enabled": True, "egress": {"dns": {"enabled": False}}},
        "lifecycle": {"preStopSleepSeconds": 5},
    }),
    ("sqlite with existingSecret for JWT keys", {
        "database": {"url": "sqlite:///data/scim.db"},
        "existingSecret": {"name": "scim-keys"},
        "persistence": {"existingClaim": "scim-data"},
        "serviceAccount": {"create": False, "name": "scim"},
    }),
    ("postgres without a migration URL, maxUnavailable", {
        "replicaCount": 4,
        "database": {"url": "postgresql://app:pw@db:5432/scim"},
        "podDisruptionBudget": {"maxUnavailable": 1},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
        "image": {"digest": "sha256:" + "a" * 64},
        "command": ["/usr/local/bin/webwork-scim"],
    }),
]

failures: list[str] = []
passed = 0


def check(condition: bool, what: str) -> None:
    global passed
    if condition:
        passed += 1
    else:
        failures.append(what)
        print(f"FAIL {what}")


def load_values(path: Path | dict[str, Any] | None) -> dict[str, Any]:
    if path is None:
        return {}
    if isinstance(path, dict):
        return path
    return yaml.safe_load(path.read_text()) or {}


def render(chart: helm.Chart, values: dict[str, Any], *, upgrade: bool = False) -> dict[str, str]:
    return chart.render(
        values=values,
        name=RELEASE,
        namespace=NAMESPACE,
        is_install=not upgrade,
        is_upgrade=upgrade,
    )


def manifests(rendered: dict[str, str]) -> list[dict[str, Any]]:
    """Every Kubernetes object in the rendered templates (NOTES.txt is not one)."""
    objects = []
    for name, text in sorted(rendered.items()):
        if name.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                doc.setdefault("metadata", {}).setdefault("annotations", {})
                doc["_template"] = name
                objects.append(doc)
    return objects


def strip(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without our bookkeeping, and without an annotations map we added."""
    obj = copy.deepcopy(obj)
    obj.pop("_template", None)
    if obj["metadata"].get("annotations") == {}:
        del obj["metadata"]["annotations"]
    return obj


def find(objects: list[dict[str, Any]], kind: str, suffix: str = "") -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind and o["metadata"]["name"].endswith(suffix)]


def validate_service_monitor(obj: dict[str, Any], label: str) -> None:
    """ServiceMonitor is a CRD the validator has no schema for: check its shape by hand."""
    spec = obj.get("spec", {})
    endpoints = spec.get("endpoints") or []
    check(obj.get("apiVersion") == "monitoring.coreos.com/v1", f"{label}: ServiceMonitor apiVersion")
    check(bool(spec.get("selector", {}).get("matchLabels")), f"{label}: ServiceMonitor selects by labels")
    check(
        len(endpoints) == 1
        and endpoints[0].get("port") == "metrics"
        and endpoints[0].get("path") == "/metrics",
        f"{label}: ServiceMonitor scrapes the metrics port at /metrics",
    )
    allowed = {"port", "path", "scheme", "interval", "scrapeTimeout", "relabelings", "metricRelabelings"}
    check(set(endpoints[0]) <= allowed if endpoints else False, f"{label}: ServiceMonitor endpoint keys")


def validate_all(objects: list[dict[str, Any]], label: str) -> int:
    count = 0
    for obj in objects:
        kind = obj["kind"]
        where = f"{label}: {kind}/{obj['metadata']['name']} ({obj['_template']})"
        if kind == "ServiceMonitor":
            validate_service_monitor(obj, label)
            count += 1
            continue
        for version in KUBE_VERSIONS:
            try:
                kubernetes_validate.validate(strip(obj), version, strict=True)
                check(True, where)
            except kubernetes_validate.ValidationError as err:
                path = "/".join(str(p) for p in err.path)
                check(False, f"{where} invalid for Kubernetes {version} at {path}: {err.message}")
            except kubernetes_validate.SchemaNotFoundError as err:
                check(False, f"{where}: {err.message}")
        count += 1
    return count


def container(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]["containers"][0]


def assert_server(objects: list[dict[str, Any]], label: str) -> None:
    deployments = find(objects, "Deployment")
    check(len(deployments) == 1, f"{label}: one Deployment")
    if not deployments:
        return
    deploy = deployments[0]
    pod = deploy["spec"]["template"]["spec"]
    c = container(deploy)
    check(c["args"] == ["serve"], f"{label}: the server runs `serve`")
    check(c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, f"{label}: liveness GET /healthz")
    check(c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}, f"{label}: readiness GET /readyz")
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    check(ports == {"http": 8080, "metrics": 9090}, f"{label}: container ports http 8080, metrics 9090")
    sc = c["securityContext"]
    check(sc.get("readOnlyRootFilesystem") is True, f"{label}: readOnlyRootFilesystem")
    check(sc.get("allowPrivilegeEscalation") is False, f"{label}: no privilege escalation")
    check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{label}: capabilities dropped")
    psc = pod["securityContext"]
    check(
        psc.get("runAsNonRoot") is True
        and psc.get("runAsUser") == 65532
        and psc.get("fsGroup") == 65532
        and psc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
        f"{label}: pod security context",
    )
    check(pod.get("automountServiceAccountToken") is False, f"{label}: no service account token")
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    check("/tmp" in mounts, f"{label}: /tmp is mounted")
    sleep = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds")
    check(isinstance(sleep, int) and sleep > 0, f"{label}: preStop sleep action")
    cm = [c for c in find(objects, "ConfigMap")
          if not c["metadata"]["name"].endswith(("-webhook-ca", "-dashboard"))]
    check(len(cm) == 1, f"{label}: one ConfigMap of settings")
    if cm and isinstance(sleep, int):
        data = cm[0]["data"]
        shutdown = int(data["SHUTDOWN_TIMEOUT_SECS"])
        check(
            pod["terminationGracePeriodSeconds"] > sleep + shutdown,
            f"{label}: grace period exceeds preStop + SHUTDOWN_TIMEOUT_SECS",
        )
        check(data.get("BIND_ADDR") == "0.0.0.0:8080", f"{label}: BIND_ADDR")
        check(data.get("METRICS_BIND_ADDR") == "0.0.0.0:9090", f"{label}: METRICS_BIND_ADDR")
        check(data.get("DEMO_WORKSPACE") == "false", f"{label}: no demo workspace")
        leaked = {"MIGRATION_DATABASE_URL", "JWT_KEYS", "WEBHOOK_SECRET"} & set(data)
        check(not leaked, f"{label}: no secret in the ConfigMap ({sorted(leaked)})")
        check(
            data.get("DATABASE_URL", "sqlite:").startswith("sqlite:"),
            f"{label}: only a SQLite DATABASE_URL may be in the ConfigMap",
        )
    env = {e["name"] for e in c.get("env", [])}
    check("MIGRATION_DATABASE_URL" not in env, f"{label}: the server never gets the owner role's URL")
    annotations = deploy["spec"]["template"]["metadata"]["annotations"]
    check("checksum/config" in annotations, f"{label}: pods roll when the ConfigMap changes")
    if find(objects, "Secret", RELEASE + "-webwork-scim"):
        check("checksum/secret" in annotations, f"{label}: pods roll when the Secret changes")
    for svc in find(objects, "Service"):
        names = {p["name"] for p in svc["spec"]["ports"]}
        check(names == {"http", "metrics"}, f"{label}: Service ports http and metrics")


def assert_migration(objects: list[dict[str, Any]], label: str, *, chart_secret: bool) -> None:
    jobs = find(objects, "Job")
    check(len(jobs) == 1, f"{label}: one migration Job")
    if not jobs:
        return
    job = jobs[0]
    ann = job["metadata"]["annotations"]
    check(ann.get("helm.sh/hook") == "pre-install,pre-upgrade", f"{label}: Job is a pre-install,pre-upgrade hook")
    check(
        ann.get("helm.sh/hook-delete-policy") == "before-hook-creation,hook-succeeded",
        f"{label}: Job hook delete policy",
    )
    spec = job["spec"]
    for key in ("backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"):
        check(key in spec, f"{label}: Job sets {key}")
    c = container(job)
    check(c["args"] == ["migrate"], f"{label}: the Job runs `migrate`")
    check(c["securityContext"].get("readOnlyRootFilesystem") is True, f"{label}: Job readOnlyRootFilesystem")
    check(
        job["spec"]["template"]["spec"]["securityContext"].get("runAsNonRoot") is True,
        f"{label}: Job runs as non-root",
    )
    env = {e["name"]: e for e in c["env"]}
    check("MIGRATION_DATABASE_URL" in env, f"{label}: Job gets MIGRATION_DATABASE_URL")
    job_weight = int(ann.get("helm.sh/hook-weight", "0"))
    job_sa = job["spec"]["template"]["spec"].get("serviceAccountName")
    chart_sa = [sa["metadata"]["name"] for sa in find(objects, "ServiceAccount")]
    check(job_sa not in chart_sa, f"{label}: Job does not use a ServiceAccount made after it")
    # Everything the Job references must be a hook that runs before it, or come from outside.
    ref = env["MIGRATION_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"]
    owned = [o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == ref]
    if chart_secret:
        check(len(owned) == 1, f"{label}: the Job's Secret is rendered by the chart")
        for secret in owned:
            sann = secret["metadata"]["annotations"]
            check(
                sann.get("helm.sh/hook") == "pre-install,pre-upgrade",
                f"{label}: the Job's Secret is a pre-install,pre-upgrade hook",
            )
            check(
                int(sann.get("helm.sh/hook-weight", "0")) < job_weight,
                f"{label}: the Job's Secret has a lower hook weight than the Job",
            )
            check("MIGRATION_DATABASE_URL" in secret.get("data", {}), f"{label}: the hook Secret holds the URL")
    else:
        check(not owned, f"{label}: the Job reads the existing Secret")
    for np in find(objects, "NetworkPolicy", "-migration"):
        check(
            int(np["metadata"]["annotations"].get("helm.sh/hook-weight", "0")) < job_weight,
            f"{label}: the Job's NetworkPolicy is a hook before it",
        )


def assert_notes(rendered: dict[str, str], label: str) -> None:
    notes = next((t for n, t in rendered.items() if n.endswith("NOTES.txt")), "")
    check("/scim/v2/<workspace key>" in notes, f"{label}: NOTES give the SCIM Base URL pattern")
    check(
        "exec deploy/" in notes and "webwork-scim workspace create" in notes and "token issue" in notes,
        f"{label}: NOTES show creating a workspace and token through kubectl exec",
    )


def assert_scenario(objects: list[dict[str, Any]], merged: dict[str, Any], label: str) -> None:
    """What depends on the scenario's values: database kind, autoscaling, startup probe."""
    url = str(merged["database"]["url"] or "")
    sqlite = url.startswith("sqlite:") or (not url and not merged["existingSecret"]["name"])
    deploy = find(objects, "Deployment")[0]
    if sqlite:
        check(not find(objects, "Job"), f"{label}: no migration Job on SQLite")
        persistence = merged["persistence"]
        claim = next((v["persistentVolumeClaim"]["claimName"] for v in deploy["spec"]["template"]["spec"]["volumes"]
                      if v["name"] == "data" and "persistentVolumeClaim" in v), None)
        made = [p["metadata"]["name"] for p in find(objects, "PersistentVolumeClaim")]
        if not persistence["enabled"]:
            check(claim is None and not made, f"{label}: no claim without persistence")
        elif persistence["existingClaim"]:
            check(claim == persistence["existingClaim"] and not made, f"{label}: the existing claim is used")
        else:
            check(made == [claim], f"{label}: the chart's claim is mounted")
        check(not find(objects, "PodDisruptionBudget"), f"{label}: no PDB with one replica")
        check(deploy["spec"]["strategy"]["type"] == "Recreate", f"{label}: Recreate on SQLite")
        mounts = {m["mountPath"] for m in container(deploy)["volumeMounts"]}
        check("/data" in mounts, f"{label}: /data mounted on SQLite")
    else:
        assert_migration(objects, label, chart_secret=not merged["existingSecret"]["name"])
        check(not find(objects, "PersistentVolumeClaim"), f"{label}: no volume on PostgreSQL")
        check(bool(find(objects, "PodDisruptionBudget")), f"{label}: PDB with several replicas")
    if merged["autoscaling"]["enabled"]:
        check("replicas" not in deploy["spec"], f"{label}: replicas left to the HPA")
        check(len(find(objects, "HorizontalPodAutoscaler")) == 1, f"{label}: HPA rendered")
    if merged["networkPolicy"]["enabled"]:
        policy = [p for p in find(objects, "NetworkPolicy") if not p["metadata"]["name"].endswith("-migration")]
        check(len(policy) == 1, f"{label}: one NetworkPolicy for the server")
        ingress_ports = {p["port"] for rule in policy[0]["spec"]["ingress"] for p in rule.get("ports", [])}
        check(ingress_ports == {"http", "metrics"}, f"{label}: NetworkPolicy admits only http and metrics")
        egress_ports = {p.get("port") for rule in policy[0]["spec"]["egress"] for p in rule.get("ports", [])}
        dns = merged["networkPolicy"]["egress"]["dns"]["enabled"]
        check((53 in egress_ports) == bool(dns), f"{label}: NetworkPolicy allows DNS as configured")
        if not sqlite:
            check(merged["networkPolicy"]["egress"]["database"]["port"] in egress_ports,
                  f"{label}: NetworkPolicy allows PostgreSQL")
        if not merged["networkPolicy"]["egress"]["webhooks"]["ports"]:
            for url in merged["webhooks"]["urls"]:
                port = int(urlsplit(url).port or (443 if url.startswith("https://") else 80))
                check(port in egress_ports, f"{label}: NetworkPolicy allows the webhook port of {url}")
    if merged["webhooks"]["caBundle"]:
        bundles = find(objects, "ConfigMap", "-webhook-ca")
        check(len(bundles) == 1 and "BEGIN CERTIFICATE" in bundles[0]["data"]["ca.pem"],
              f"{label}: the CA bundle is in a ConfigMap of its own")
        env = next(c for c in find(objects, "ConfigMap")
                   if not c["metadata"]["name"].endswith(("-webhook-ca", "-dashboard")))
        mounted = {m["mountPath"] for m in container(deploy)["volumeMounts"]}
        check(env["data"].get("WEBHOOK_CA_FILE") == "/etc/webwork-scim/webhook-ca/ca.pem"
              and "/etc/webwork-scim/webhook-ca" in mounted,
              f"{label}: WEBHOOK_CA_FILE names the mounted bundle")
    dashboards = find(objects, "ConfigMap", "-dashboard")
    if merged["metrics"]["grafanaDashboard"]["enabled"]:
        shipped = json.loads((HERE.parent / "deploy" / "grafana" / "webwork-scim.json").read_text())
        check(len(dashboards) == 1
              and json.loads(dashboards[0]["data"]["webwork-scim.json"]) == shipped
              and dashboards[0]["metadata"]["labels"].get("grafana_dashboard") == "1",
              f"{label}: the dashboard ConfigMap holds deploy/grafana/webwork-scim.json for the sidecar")
    else:
        check(not dashboards, f"{label}: no dashboard ConfigMap unless asked")
    if merged["startupProbe"]["enabled"]:
        probe = container(deploy).get("startupProbe", {})
        check(probe.get("httpGet", {}).get("path") == "/healthz", f"{label}: startupProbe GET /healthz")


def guarded(label: str, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Runs a group of assertions; a missing field counts as a failure, not a crash."""
    try:
        fn(*args, **kwargs)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as err:
        check(False, f"{label}: {fn.__name__} could not read the manifests ({type(err).__name__}: {err})")


def expect_failure(
    chart: helm.Chart, values: dict[str, Any], message: str, label: str
) -> None:
    try:
        render(chart, values)
    except helm.HelmError as err:
        check(message in str(err), f"{label}: fails with {message!r} (got: {err})")
        return
    check(False, f"{label}: rendering should have failed")


def main() -> int:
    scenarios: list[tuple[str, Any]] = [("defaults", None)]
    scenarios += [(f"ci/{p.name}", p) for p in CI_VALUES]
    scenarios += EXTRA_SCENARIOS
    validated = 0

    with helm.Chart.load(CHART) as chart:
        check(chart.metadata.get("apiVersion") == "v2", "Chart.yaml apiVersion v2")
        check(chart.metadata.get("appVersion") == "0.1.0", "Chart.yaml appVersion 0.1.0")

        for label, path in scenarios:
            values = load_values(path)
            report = helm.lint(CHART, values or None, strict=True, kube_version="v1.30.0")
            problems = [m for m in report.get("messages", []) if m.get("severity", 0) >= 2]
            problems += [{"error": e} for e in report.get("errors", [])]
            check(not problems, f"{label}: lint ({problems})")
            try:
                chart.validate_schema(values)
                check(True, f"{label}: values match the schema")
            except helm.HelmValuesError as err:
                check(False, f"{label}: values match the schema ({err})")
            for upgrade in (False, True):
                try:
                    rendered = render(chart, values, upgrade=upgrade)
                except helm.HelmError as err:
                    check(False, f"{label}: renders ({err})")
                    continue
                objects = manifests(rendered)
                if upgrade:
                    # Same objects on upgrade; validation of the install render covers them.
                    check(bool(find(objects, "Deployment")), f"{label}: renders on upgrade")
                    continue
                validated += validate_all(objects, label)
                guarded(label, assert_server, objects, label)
                guarded(label, assert_notes, rendered, label)
                guarded(label, assert_scenario, objects, chart.merge_values(values), label)

        # The schema catches typos instead of ignoring them.
        for bad, what in [
            ({"replicaCont": 2}, "an unknown top-level key"),
            ({"image": {"tagg": "1"}}, "an unknown key under image"),
            ({"config": {"logFormat": "xml"}}, "a log format outside the enum"),
            ({"webhooks": {"urls": ["ftp://app.example.com/hooks"]}}, "an ftp:// webhook URL"),
            ({"webhooks": {"caBundle": "not a certificate"}}, "a CA bundle that is not PEM"),
            ({"replicaCount": "two"}, "a string replica count"),
        ]:
            try:
                chart.validate_schema(bad)
                check(False, f"schema accepts {what}")
            except helm.HelmValuesError:
                check(True, f"schema rejects {what}")

        # Settings that would deploy something broken fail with a clear message.
        expect_failure(chart, {"database": {"url": "sqlite:///data/x.db"}, "replicaCount": 2},
                       SQLITE_REFUSAL, "SQLite with two replicas")
        expect_failure(chart, {"autoscaling": {"enabled": True}}, SQLITE_REFUSAL, "SQLite with autoscaling")
        expect_failure(chart, {"database": {"url": "sqlite:///var/lib/x.db"}}, "must live in /data",
                       "SQLite outside /data")
        expect_failure(chart, {"terminationGracePeriodSeconds": 20},
                       "must exceed lifecycle.preStopSleepSeconds", "a grace period shorter than shutdown")
        expect_failure(chart, {"extraEnv": {"DATABASE_URL": "postgres://x@y/z"}},
                       "secrets do not belong in the ConfigMap", "a secret in extraEnv")
        expect_failure(chart, {"webhooks": {"urls": ["http://app/hooks"]}},
                       "webhooks.urls needs webhooks.secret", "webhook URLs without a secret")
        expect_failure(chart, {"existingSecret": {"name": "s"}, "database": {"url": "postgres://a:b@c/d"}},
                       "put DATABASE_URL in the existing Secret", "a PostgreSQL URL beside existingSecret")

    print()
    print(f"chart: {CHART.relative_to(HERE.parent)}; {len(scenarios)} scenarios: {', '.join(l for l, _ in scenarios)}")
    print(f"manifests validated: {validated} (Kubernetes {' and '.join(KUBE_VERSIONS)}, strict)")
    print(f"checks passed: {passed}, failed: {len(failures)}")
    if failures:
        for f in failures:
            print(f"  - {f}")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
