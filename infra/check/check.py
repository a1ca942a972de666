"""Checks infra/ offline: the Kubernetes manifests against the API schemas bundled in
kubernetes-validate (strict: unknown fields are errors), and the compose file against the Compose
specification (compose-spec), after the interpolation `docker compose` would do. Prints one line per
file and exits 1 on the first kind of failure it finds in any file."""
import re
import sys
from pathlib import Path

import compose_spec
import kubernetes_validate
import yaml

INFRA = Path(__file__).resolve().parent.parent
# Values standing in for the variables an operator must set (`${VAR:?message}`).
EXAMPLE_ENV = {"WORKER_SECRET": "x" * 32, "S3_SECRET_ACCESS_KEY": "y" * 32, "SIGNING_KEYS": "k1:" + "z" * 64, "STORAGE_INTEGRITY_KEY": "w" * 64}


def interpolate(text: str) -> str:
    """${VAR}, ${VAR:-default}, ${VAR:?message} as Compose resolves them, with EXAMPLE_ENV set."""

    def value(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        if name in EXAMPLE_ENV:
            return EXAMPLE_ENV[name]
        if op == ":-":
            return arg
        if op == ":?":
            raise ValueError(f"${{{name}}} is required but has no example value")
        return ""

    return re.sub(r"\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}", value, text)


# KEDA's ScaledObject is a custom resource, outside kubernetes-validate's schemas: its fields as
# keda.sh/v1alpha1 defines them (https://keda.sh/docs/2.16/reference/scaledobject-spec/).
SCALED_OBJECT_SPEC = {"scaleTargetRef", "minReplicaCount", "maxReplicaCount", "pollingInterval", "cooldownPeriod", "idleReplicaCount", "fallback", "advanced", "triggers", "initialCooldownPeriod"}
PROMETHEUS_METADATA = {"serverAddress", "query", "threshold", "activationThreshold", "namespace", "ignoreNullValues", "unsafeSsl", "customHeaders", "queryParameters"}


def check_scaled_object(doc: dict, deployments: set[str]) -> list[str]:
    name = f"ScaledObject/{doc.get('metadata', {}).get('name')}"
    spec = doc.get("spec") or {}
    problems = [f"{name}: unknown field spec.{field}" for field in sorted(set(spec) - SCALED_OBJECT_SPEC)]
    target = spec.get("scaleTargetRef") or {}
    if target.get("kind", "Deployment") != "Deployment" or target.get("name") not in deployments:
        problems.append(f"{name}: scaleTargetRef names no Deployment of infra/k8s ({target.get('name')})")
    low, high = spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100)
    if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high):
        problems.append(f"{name}: minReplicaCount/maxReplicaCount must be integers with 0 <= min <= max")
    triggers = spec.get("triggers") or []
    if not triggers:
        problems.append(f"{name}: no triggers")
    for i, trigger in enumerate(triggers):
        if trigger.get("type") != "prometheus":
            continue
        metadata = trigger.get("metadata") or {}
        problems += [f"{name}: trigger {i}: unknown prometheus field {field}" for field in sorted(set(metadata) - PROMETHEUS_METADATA)]
        for field in ("serverAddress", "query", "threshold"):
            if not isinstance(metadata.get(field), str) or not metadata.get(field):
                problems.append(f"{name}: trigger {i}: prometheus needs {field} (a string)")
        if "imf_worker_queue_depth" not in str(metadata.get("query")):
            problems.append(f"{name}: trigger {i}: the query should read the workers' imf_worker_queue_depth")
        if trigger.get("metricType", "AverageValue") not in ("AverageValue", "Value", "Utilization"):
            problems.append(f"{name}: trigger {i}: unknown metricType {trigger.get('metricType')}")
    return problems


def k8s_deployments() -> set[str]:
    return {doc["metadata"]["name"] for path in (INFRA / "k8s").glob("*.yaml") for doc in yaml.safe_load_all(path.read_text()) if doc and doc.get("kind") == "Deployment"}


def check_kubernetes(path: Path) -> list[str]:
    problems = []
    for doc in yaml.safe_load_all(path.read_text()):
        if not doc:
            continue
        if doc.get("apiVersion") == "keda.sh/v1alpha1" and doc.get("kind") == "ScaledObject":
            problems += check_scaled_object(doc, k8s_deployments())
            continue
        try:
            kubernetes_validate.validate(doc, "1.37.0", strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}: {error.message} at {'.'.join(map(str, error.path))}")
        except Exception as error:  # unknown kind or version
            problems.append(f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}: {error}")
    return problems


def check_compose(path: Path) -> list[str]:
    text = interpolate(path.read_text())
    try:
        compose_spec.PyCompose.from_yaml(text)
    except ValueError as error:
        return [str(error)]
    spec = yaml.safe_load(text)
    services = spec.get("services", {})
    problems = []
    for name, service in services.items():
        if "image" not in service and "build" not in service:
            problems.append(f"service {name}: neither image nor build")
        depends = service.get("depends_on", [])
        for target in depends if isinstance(depends, list) else depends.keys():
            if target not in services:
                problems.append(f"service {name}: depends on unknown service {target}")
        for config in service.get("configs", []):
            source = config["source"] if isinstance(config, dict) else config
            if source not in (spec.get("configs") or {}):
                problems.append(f"service {name}: unknown config {source}")
        # Closed storage: nothing but the edge is published, and SeaweedFS binds everything but its
        # S3 gateway to the container's loopback.
        if service.get("ports") and name != "edge":
            problems.append(f"service {name}: publishes ports; only the edge may")
        if name == "seaweedfs":
            command = " ".join(service.get("command") or []) if isinstance(service.get("command"), list) else str(service.get("command"))
            for flag in ("-ip.bind=127.0.0.1", "-s3.ip.bind=0.0.0.0", "-disableHttp", "WEED_JWT_SIGNING_KEY", "WEED_JWT_SIGNING_READ_KEY", "WEED_JWT_FILER_SIGNING_KEY"):
                if flag not in command:
                    problems.append(f"service seaweedfs: command lacks {flag} (only the S3 port may be reachable)")
        build = service.get("build")
        if isinstance(build, dict):
            dockerfile = (path.parent / build.get("context", ".") / build.get("dockerfile", "Dockerfile")).resolve()
            if not dockerfile.exists():
                problems.append(f"service {name}: no Dockerfile at {dockerfile}")
    return problems


def check_network_policies(paths: list[Path]) -> list[str]:
    """Every pod of the namespace sits behind a default-deny policy, and each Deployment has a policy of its own."""
    docs = [doc for path in paths for doc in yaml.safe_load_all(path.read_text()) if doc]
    policies = [doc for doc in docs if doc.get("kind") == "NetworkPolicy"]
    problems = []
    if not any(p["spec"].get("podSelector") == {} and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"} and not p["spec"].get("ingress") and not p["spec"].get("egress") for p in policies):
        problems.append("no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)")
    for deployment in (doc for doc in docs if doc.get("kind") == "Deployment"):
        labels = deployment["spec"]["template"]["metadata"].get("labels", {})
        selected = [p for p in policies if p["spec"].get("podSelector", {}).get("matchLabels") and all(labels.get(k) == v for k, v in p["spec"]["podSelector"]["matchLabels"].items())]
        if not selected:
            problems.append(f"Deployment/{deployment['metadata']['name']}: no NetworkPolicy selects its pods")
    return problems


def main() -> int:
    failed = 0
    manifests = sorted((INFRA / "k8s").glob("*.yaml"))
    files = [(p, check_kubernetes) for p in manifests] + [(INFRA / "compose.yaml", check_compose), (INFRA / "k8s", lambda _: check_network_policies(manifests))]
    for path, check in files:
        problems = check(path)
        status = "ok" if not problems else "FAILED"
        print(f"{status:6} {path.relative_to(INFRA.parent)}")
        for problem in problems:
            print(f"       {problem}")
        failed += bool(problems)
    print(f"infra: {len(files) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
