"""Offline validation of deploy/ (run by scripts/deploy-tests.sh; docs/deploy.md, "What was validated here and how").

Renders every overlay with `kubectl kustomize`, validates built-in kinds strictly with kubernetes-validate and the
custom ones against their CRDs' schemas (deploy/schemas/), the EMR on EKS request against botocore's model of the
API, and checks that the manifests agree with the servers' configuration registry and with each other. With
--self-test it then breaks a copy in each way it guards against and fails unless every break is reported.
"""

import argparse
import copy
import email
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

import botocore.session
import botocore.validate
import jsonschema
import kubernetes_validate
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
# The nvme tier disk by disk (hostPath volumes on the node's instance-store disks) rather than RAID0 and emptyDir.
DISKS = "eks-nvme-disks"
OVERLAYS = ["dev", "eks", "eks-fsx-dynamic", DISKS]
NAMESPACE = "sluice"
SHUFFLE_MANAGER = "org.apache.spark.shuffle.sluice.SluiceShuffleManager"
# Built-in kinds without a namespace; every other built-in kind here is namespaced.
CLUSTER_SCOPED = {"Namespace", "PersistentVolume", "StorageClass"}
# The drain's margin: terminationGracePeriodSeconds must cover worker.shutdownGracePeriod plus this.
DRAIN_MARGIN_SECONDS = 30
# Memory: limits.memory >= MEMORY_FACTOR x worker.memoryBudget + MEMORY_BASE_BYTES (docs/deploy.md, "Memory").
MEMORY_FACTOR = 1.25
MEMORY_BASE_BYTES = 256 << 20
SECRET_FOR_CHECKS = "0123456789abcdef" * 4

UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_bytes(text, kubernetes=False):
    """Bytes of a Sluice size (`512MiB`, `1t`: every suffix a power of 1024) or, with `kubernetes`, of a
    Kubernetes quantity (`48Gi`; `1200G` and `500M` are powers of 1000)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgtKMGT]?)(i?[bB]?|i)?\s*", str(text))
    if not match:
        raise ValueError(f"not a size: {text!r}")
    number, unit, suffix = match.groups()
    scale = UNITS[unit.lower()]
    # Kubernetes' decimal suffixes (`G`, `M`) are powers of 1000; Sluice's are all powers of 1024.
    if kubernetes and suffix == "" and unit and str(text).strip()[-1] == unit:
        scale = 1000 ** "kmgt".index(unit.lower()) * 1000
    return int(float(number) * scale)


def parse_duration_ms(text):
    """Milliseconds of a Sluice or Karpenter duration (`10m`, `30s`, `1h`, `660`)."""
    total, rest = 0, str(text).strip()
    if re.fullmatch(r"\d+", rest):
        return int(rest)
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|min|m|h)", rest):
        total += float(number) * {"ms": 1, "s": 1000, "m": 60000, "min": 60000, "h": 3600000}[unit]
    if not re.fullmatch(r"((\d+(?:\.\d+)?)(ms|s|min|m|h))+", rest):
        raise ValueError(f"not a duration: {text!r}")
    return int(total)


class Registry:
    """The configuration keys of one server, from its `--print-sample-config` (the registry's own rendering)."""

    def __init__(self, sample_text):
        self.keys = {}
        self.environment = {}
        doc = None
        for line in sample_text.splitlines():
            found = re.search(r"; env (SLUICE_[A-Z0-9_]+); flag ", line)
            if found:
                doc = found.group(1)
                continue
            key = re.fullmatch(r"# ([A-Za-z.]+) =\s?(.*)", line)
            if key and doc:
                self.keys[key.group(1)] = key.group(2)
                self.environment[doc] = key.group(1)
                doc = None


def parse_conf(text):
    """`key = value` lines of a config file (comments and blank lines skipped), in order."""
    entries = {}
    for line in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if not line:
            continue
        key, _, value = line.partition("=") if "=" in line else line.partition(" ")
        entries[key.strip()] = value.strip()
    return entries


def parse_tiers(text):
    """`worker.tiers` as a list of {field: value}."""
    tiers = []
    for record in filter(None, (part.strip() for part in text.split(";"))):
        tiers.append(dict(field.split("=", 1) for field in record.split()))
    return tiers


def openapi_to_jsonschema(node):
    """A CRD's structural schema as JSON Schema, strict as the API server's field validation is: an object with
    `properties` refuses other fields unless the CRD says `x-kubernetes-preserve-unknown-fields`; `nullable`
    admits null. `x-kubernetes-validations` (CEL rules) are not evaluated."""
    if isinstance(node, list):
        return [openapi_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {name: openapi_to_jsonschema(schema) for name, schema in value.items()}
        elif key.startswith("x-kubernetes-") or key in ("nullable", "default", "example", "format"):
            continue
        else:
            out[key] = openapi_to_jsonschema(value)
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if node.get("x-kubernetes-int-or-string") and "type" not in out and "anyOf" not in out:
        out["type"] = ["integer", "string"]
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def load_crd_schemas():
    """(apiVersion, kind) -> (validator, file name) for every file in deploy/schemas/."""
    schemas = {}
    directory = os.path.join(DEPLOY, "schemas")
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(directory, name), encoding="utf-8") as handle:
            crd = json.load(handle)
        schema = openapi_to_jsonschema(crd["openAPIV3Schema"])
        jsonschema.Draft7Validator.check_schema(schema)
        schemas[(f"{crd['group']}/{crd['version']}", crd["kind"])] = (jsonschema.Draft7Validator(schema), name)
    return schemas


class World:
    """Everything validated, loaded once: rendered overlays, Spark examples, registries. Mutations in the
    self-test change a deep copy."""

    def __init__(self, kubectl, bin_dir, shellcheck):
        self.bin_dir = bin_dir
        self.shellcheck = shellcheck
        self.overlays = {}
        for overlay in OVERLAYS:
            path = os.path.join(DEPLOY, "kubernetes", "overlays", overlay)
            rendered = subprocess.run([kubectl, "kustomize", path], check=True, capture_output=True, text=True).stdout
            self.overlays[overlay] = [document for document in yaml.safe_load_all(rendered) if document]
        self.spark = {}
        spark_directory = os.path.join(DEPLOY, "spark")
        for name in sorted(os.listdir(spark_directory)):
            with open(os.path.join(spark_directory, name), encoding="utf-8") as handle:
                text = handle.read()
            if name.endswith(".yaml"):
                self.spark[name] = [document for document in yaml.safe_load_all(text) if document]
            elif name.endswith(".json"):
                self.spark[name] = json.loads(text)
            else:
                self.spark[name] = text
        self.registries = {}
        for role in ("master", "worker"):
            sample = subprocess.run(
                [os.path.join(bin_dir, f"sluice-{role}"), "--print-sample-config"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            self.registries[role] = Registry(sample)
        with open(os.path.join(ROOT, "docs", "spark.md"), encoding="utf-8") as handle:
            self.spark_keys = set(re.findall(r"^\| `(spark\.sluice\.[A-Za-z.]+)` \|", handle.read(), re.M))
        version_file = os.path.join(ROOT, "Sources", "SluiceCore", "SluiceVersion.swift")
        with open(version_file, encoding="utf-8") as handle:
            current = re.search(r'current = "([^"]+)"', handle.read()).group(1)
        # Examples name the release the current development version leads to.
        self.version = current.removesuffix("-dev")


class Checker:
    """Collects errors, each prefixed with where it was found."""

    def __init__(self, world, crd_schemas, k8s_version, run_binaries):
        self.world = world
        self.crd_schemas = crd_schemas
        self.k8s_version = k8s_version
        self.run_binaries = run_binaries
        self.errors = []

    def error(self, where, message):
        self.errors.append(f"{where}: {message}")

    # ---- schemas ----------------------------------------------------------------------------------------------
    def validate_schema(self, where, document):
        key = (document.get("apiVersion"), document.get("kind"))
        where = f"{where} {key[1]}/{document.get('metadata', {}).get('name')}"
        if key in self.crd_schemas:
            validator, name = self.crd_schemas[key]
            for failure in sorted(validator.iter_errors(document), key=lambda e: list(e.path)):
                path = "/".join(str(part) for part in failure.path)
                self.error(where, f"{failure.message} at /{path} (schema {name})")
            metadata = document.get("metadata", {})
            for field in set(metadata) - {"name", "namespace", "labels", "annotations"}:
                self.error(where, f"unexpected metadata field {field}")
            return
        try:
            kubernetes_validate.validate(document, self.k8s_version, strict=True)
        except kubernetes_validate.ValidationError as failure:
            path = "/".join(str(part) for part in failure.path)
            self.error(where, f"{failure.message} at /{path} (Kubernetes {self.k8s_version}, strict)")
        except kubernetes_validate.SchemaNotFoundError:
            self.error(where, f"no schema for {key[0]} {key[1]}: neither built in nor in deploy/schemas")

    # ---- one rendered overlay ---------------------------------------------------------------------------------
    def check_overlay(self, overlay, documents):
        where = f"overlays/{overlay}"
        by_kind = {}
        for document in documents:
            self.validate_schema(where, document)
            by_kind.setdefault(document["kind"], []).append(document)
            kind, metadata = document["kind"], document["metadata"]
            custom = (document["apiVersion"], kind) in self.crd_schemas
            namespaced = kind not in CLUSTER_SCOPED and kind not in ("NodePool", "EC2NodeClass")
            if namespaced and metadata.get("namespace") != NAMESPACE:
                self.error(where, f"{kind}/{metadata['name']} is not in namespace {NAMESPACE}")
            if not namespaced and "namespace" in metadata and not custom:
                self.error(where, f"{kind}/{metadata['name']} is cluster-scoped but names a namespace")
        if self.run_binaries:
            for node_class in by_kind.get("EC2NodeClass", []):
                self.check_user_data(where, node_class)
        configmaps = {document["metadata"]["name"]: document for document in by_kind.get("ConfigMap", [])}
        services = by_kind.get("Service", [])
        masters = by_kind.get("Deployment", [])
        workers = by_kind.get("StatefulSet", [])
        if len(masters) != 1 or len(workers) != 1:
            self.error(where, "expected one master Deployment and one worker StatefulSet")
            return
        master, worker = masters[0], workers[0]
        master_config = self.check_server(where, "master", master, configmaps, services)
        worker_config = self.check_server(where, "worker", worker, configmaps, services)
        if master_config is None or worker_config is None:
            return
        self.check_master(where, master, master_config)
        self.check_worker(where, worker, worker_config, master, master_config, services, by_kind)
        self.check_policies(where, worker, by_kind)

    def check_user_data(self, where, node_class):
        """The shell parts of an EC2NodeClass's MIME multi-part userData, through shellcheck (the node runs them as
        root before the kubelet starts)."""
        where = f"{where} EC2NodeClass/{node_class['metadata']['name']} userData"
        text = node_class["spec"].get("userData")
        if not text or not text.startswith("MIME-Version:"):
            return
        message = email.message_from_string(text)
        if not message.is_multipart():
            self.error(where, "not a MIME multi-part document")
            return
        for part in message.walk():
            if part.get_content_type() != "text/x-shellscript":
                continue
            result = subprocess.run(
                [self.world.shellcheck, "-"], input=part.get_payload(), capture_output=True, text=True, timeout=60
            )
            if result.returncode != 0:
                self.error(where, f"shellcheck: {' '.join(result.stdout.split())}")

    def container(self, workload):
        containers = workload["spec"]["template"]["spec"]["containers"]
        return containers[0]

    def check_server(self, where, role, workload, configmaps, services):
        """Config keys and environment variables exist; ports and probes match the configuration. Returns the
        effective configuration (defaults < file < environment) or None."""
        where = f"{where} {workload['kind']}/{workload['metadata']['name']}"
        registry = self.world.registries[role]
        pod = workload["spec"]["template"]["spec"]
        container = self.container(workload)
        arguments = container.get("args", [])
        if "--config" not in arguments[:-1]:
            self.error(where, "the container is not started with --config FILE")
            return None
        config_path = arguments[arguments.index("--config") + 1]
        mount = next((m for m in container.get("volumeMounts", []) if m["mountPath"] == config_path), None)
        volume = mount and next((v for v in pod.get("volumes", []) if v["name"] == mount["name"]), None)
        if not volume or "configMap" not in volume or "subPath" not in mount:
            self.error(where, f"{config_path} is not a file of a ConfigMap volume")
            return None
        configmap = configmaps.get(volume["configMap"]["name"])
        if configmap is None or mount["subPath"] not in configmap.get("data", {}):
            self.error(where, f"{config_path}: no ConfigMap {volume['configMap']['name']} key {mount['subPath']}")
            return None
        if not re.fullmatch(r".+-[a-z0-9]{10}", configmap["metadata"]["name"]):
            self.error(
                where, f"ConfigMap {configmap['metadata']['name']} has no content hash: changes would not roll the pods"
            )
        file_text = configmap["data"][mount["subPath"]]
        config = dict(registry.keys)
        for key, value in parse_conf(file_text).items():
            if key not in registry.keys:
                self.error(where, f"{mount['subPath']}: {key} is not a sluice-{role} key")
            config[key] = value
        environment = self.environment(where, container, workload)
        for name, value in environment.items():
            if name.startswith("SLUICE_"):
                if name not in registry.environment:
                    self.error(where, f"environment variable {name} is not a sluice-{role} key")
                else:
                    config[registry.environment[name]] = value
        if self.run_binaries:
            self.check_with_binary(where, role, file_text, environment)
        prefix = f"{role}."
        ports = {port.get("name"): port["containerPort"] for port in container.get("ports", [])}
        for name, key in (("data", "port"), ("http", "httpPort")):
            if str(ports.get(name)) != config[prefix + key]:
                self.error(
                    where, f"container port {name} is {ports.get(name)}, {prefix}{key} is {config[prefix + key]}"
                )
        expected_paths = {"readinessProbe": "/readyz", "livenessProbe": "/healthz", "startupProbe": "/healthz"}
        for probe_name, path in expected_paths.items():
            probe = container.get(probe_name)
            if probe is None:
                if probe_name != "startupProbe" or role == "worker":
                    self.error(where, f"no {probe_name}")
                continue
            get = probe.get("httpGet", {})
            port = get.get("port")
            port = ports.get(port) if isinstance(port, str) else port
            if str(port) != config[prefix + "httpPort"] or get.get("path") != path:
                self.error(
                    where,
                    f"{probe_name} asks {get.get('path')} on port {get.get('port')}; the operations API answers"
                    f" {path} on {prefix}httpPort {config[prefix + 'httpPort']}",
                )
        pods = [pod_labels(workload)]
        for service in services:
            if selects(service["spec"].get("selector"), pods[0]):
                for port in service["spec"]["ports"]:
                    target = port.get("targetPort", port["port"])
                    if (target if isinstance(target, int) else ports.get(target)) is None:
                        self.error(where, f"Service {service['metadata']['name']} targets unknown port {target}")
        security = pod.get("securityContext", {})
        if security.get("runAsUser") != 10001 or not security.get("runAsNonRoot") or security.get("fsGroup") != 10001:
            self.error(where, "pods must run as uid 10001, non-root, with fsGroup 10001")
        if not container.get("securityContext", {}).get("readOnlyRootFilesystem"):
            self.error(where, "the root file system must be read-only")
        image = container.get("image", "")
        if not re.fullmatch(rf"([^:]+/)?sluice:{re.escape(self.world.version)}", image):
            self.error(where, f"image {image} is not sluice:{self.world.version}")
        return config

    def environment(self, where, container, workload):
        """The container's variables with the downward API and $(VAR) references resolved as the kubelet would
        for the first pod; a reference to a variable not defined before it is an error (the kubelet leaves it as
        literal text)."""
        values = {}
        for variable in container.get("env", []):
            name = variable["name"]
            if "value" in variable:
                value = variable["value"]
                for reference in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", value):
                    if reference not in values:
                        self.error(where, f"{name} refers to $({reference}), not defined before it")
                    value = value.replace(f"$({reference})", values.get(reference, ""))
                values[name] = value
            else:
                field = variable.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
                first = {"metadata.name": f"{workload['metadata']['name']}-0", "metadata.namespace": NAMESPACE}
                values[name] = first.get(field, f"<{field}>")
        return values

    def check_with_binary(self, where, role, file_text, environment):
        """The server itself loads and checks the file and the environment (`--check-config`)."""
        with tempfile.TemporaryDirectory(prefix="sluice-deploy-") as scratch:
            config_path = os.path.join(scratch, f"{role}.conf")
            with open(config_path, "w", encoding="utf-8") as handle:
                handle.write(file_text)
            secret_path = os.path.join(scratch, "cluster-secret")
            with open(secret_path, "w", encoding="utf-8") as handle:
                handle.write(SECRET_FOR_CHECKS)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            env.update(environment)
            if "SLUICE_CLUSTER_SECRET_FILE" in env:
                env["SLUICE_CLUSTER_SECRET_FILE"] = secret_path
            result = subprocess.run(
                [os.path.join(self.world.bin_dir, f"sluice-{role}"), "--check-config", "--config", config_path],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            if result.returncode != 0:
                self.error(where, f"sluice-{role} --check-config: {result.stderr.strip()}")

    def check_master(self, where, master, config):
        where = f"{where} Deployment/{master['metadata']['name']}"
        if master["spec"].get("replicas", 1) != 1 or master["spec"].get("strategy", {}).get("type") != "Recreate":
            self.error(where, "the master must be one replica replaced with strategy Recreate (never two at once)")

    def check_worker(self, where, worker, config, master, master_config, services, by_kind):
        where = f"{where} StatefulSet/{worker['metadata']['name']}"
        spec = worker["spec"]
        pod = spec["template"]["spec"]
        container = self.container(worker)
        service_name = spec.get("serviceName")
        headless = next((s for s in services if s["metadata"]["name"] == service_name), None)
        if headless is None or headless["spec"].get("clusterIP") != "None":
            self.error(where, f"serviceName {service_name!r} is not a headless Service")
        elif not headless["spec"].get("publishNotReadyAddresses"):
            self.error(where, f"Service {service_name} must publish not-ready pods (workers advertise their names)")
        elif not selects(headless["spec"].get("selector"), pod_labels(worker)):
            self.error(where, f"Service {service_name} does not select the worker pods")
        env = {v["name"]: v for v in container.get("env", [])}
        identity = env.get("SLUICE_WORKER_WORKER_ID", {}).get("value", "")
        reference = re.fullmatch(r"\$\((\w+)\)", identity)
        source = reference and env.get(reference.group(1), {}).get("valueFrom", {}).get("fieldRef", {})
        if not source or source.get("fieldPath") != "metadata.name":
            self.error(where, "worker.workerId must be the pod's name (SLUICE_WORKER_WORKER_ID from metadata.name)")
        host = config["worker.advertisedHost"]
        expected_host = f"{worker['metadata']['name']}-0.{service_name}.{NAMESPACE}.svc.cluster.local"
        if host != expected_host:
            self.error(where, f"worker.advertisedHost is {host!r} for the first pod, expected {expected_host!r}")
        # The master address: a Service that selects the master, publishes it before it is ready (the master is
        # ready only once a worker registered), on the master's data port.
        master_host, _, master_port = config["worker.masterAddress"].rpartition(":")
        service = next((s for s in services if s["metadata"]["name"] == master_host.split(".")[0]), None)
        if service is None or not selects(service["spec"].get("selector"), pod_labels(master)):
            self.error(where, f"worker.masterAddress {master_host} is not a Service of the master")
        else:
            ports = [p for p in service["spec"]["ports"] if str(p["port"]) == master_port]
            if not ports or str(resolve_port(ports[0].get("targetPort"), master)) != master_config["master.port"]:
                self.error(where, f"worker.masterAddress port {master_port} does not reach master.port")
            if not service["spec"].get("publishNotReadyAddresses"):
                self.error(where, f"Service {master_host} hides the master until a worker registered through it")
        # The drain.
        grace_ms = parse_duration_ms(config["worker.shutdownGracePeriod"])
        termination = pod.get("terminationGracePeriodSeconds", 30)
        if termination * 1000 < grace_ms + DRAIN_MARGIN_SECONDS * 1000:
            self.error(
                where,
                f"terminationGracePeriodSeconds {termination} does not cover worker.shutdownGracePeriod"
                f" {config['worker.shutdownGracePeriod']} + {DRAIN_MARGIN_SECONDS} s",
            )
        # Memory.
        budget = parse_bytes(config["worker.memoryBudget"])
        resources = container.get("resources", {})
        limit = resources.get("limits", {}).get("memory")
        request = resources.get("requests", {}).get("memory")
        if limit is None or parse_bytes(limit, kubernetes=True) < MEMORY_FACTOR * budget + MEMORY_BASE_BYTES:
            self.error(
                where,
                f"limits.memory {limit} is below {MEMORY_FACTOR} x worker.memoryBudget"
                f" {config['worker.memoryBudget']} + {MEMORY_BASE_BYTES >> 20} MiB",
            )
        if request != limit:
            self.error(where, f"requests.memory {request} differs from limits.memory {limit}")
        self.check_tiers(where, worker, config, by_kind)

    def check_tiers(self, where, worker, config, by_kind):
        """Every tier directory is a mounted volume of its kind, and its capacity fits in that volume."""
        pod = worker["spec"]["template"]["spec"]
        container = self.container(worker)
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        templates = {t["metadata"]["name"]: t for t in worker["spec"].get("volumeClaimTemplates", [])}
        claims = {c["metadata"]["name"]: c for c in by_kind.get("PersistentVolumeClaim", [])}
        replicas = worker["spec"].get("replicas", 1)
        tiers = parse_tiers(config["worker.tiers"])
        if [tier.get("kind") for tier in tiers] != ["nvme", "ebs", "fsx"]:
            self.error(where, f"worker.tiers must name nvme, ebs and fsx, fastest first: {config['worker.tiers']}")
        scratch = 0
        for tier in tiers:
            capacity = parse_bytes(tier.get("capacity", "0"))
            if capacity == 0:
                self.error(where, f"tier {tier.get('kind')} needs an explicit capacity below its volume's size")
            for directory in tier.get("dirs", "").split(","):
                name = mounts.get(directory)
                if name is None:
                    self.error(where, f"tier {tier['kind']} directory {directory} is not a volume mount")
                    continue
                if name in templates:
                    size, shared = templates[name]["spec"]["resources"]["requests"]["storage"], 1
                    expected = {"ebs"}
                elif "emptyDir" in volumes.get(name, {}):
                    size, shared = volumes[name]["emptyDir"].get("sizeLimit"), 1
                    scratch += parse_bytes(size or "0", kubernetes=True)
                    expected = {"nvme", "fsx"}
                elif "hostPath" in volumes.get(name, {}):
                    disks = [d for d in tier["dirs"].split(",") if "hostPath" in volumes.get(mounts.get(d), {})]
                    size, shared = self.host_disk_size(where, volumes[name]["hostPath"], len(disks), by_kind), 1
                    expected = {"nvme"}
                elif "persistentVolumeClaim" in volumes.get(name, {}):
                    claim = claims.get(volumes[name]["persistentVolumeClaim"]["claimName"])
                    if claim is None or "ReadWriteMany" not in claim["spec"].get("accessModes", []):
                        self.error(where, f"volume {name} is not a ReadWriteMany claim of this overlay")
                        continue
                    size, shared = claim["spec"]["resources"]["requests"]["storage"], replicas
                    expected = {"fsx"}
                else:
                    self.error(where, f"volume {name} of tier {tier['kind']} is of no expected type")
                    continue
                if tier["kind"] not in expected:
                    self.error(where, f"tier {tier['kind']} sits on volume {name} meant for {sorted(expected)}")
                if size is None or capacity * shared > parse_bytes(size, kubernetes=True):
                    self.error(
                        where,
                        f"tier {tier['kind']}: {shared} x capacity {tier.get('capacity')}"
                        f" exceeds volume {name} ({size})",
                    )
        requested = container.get("resources", {}).get("requests", {}).get("ephemeral-storage")
        if scratch and (requested is None or parse_bytes(requested, kubernetes=True) < scratch):
            self.error(where, f"requests.ephemeral-storage {requested} is below the emptyDir size limits")

    def host_disk_size(self, where, host_path, disks, by_kind):
        """The size of one node disk behind a hostPath tier directory: the NodePool's least local NVMe
        (`karpenter.k8s.aws/instance-local-nvme` Gt, in GB) split evenly over the tier's hostPath directories, the
        disks of one instance type being of one size. The path must exist on the node (type Directory: a node
        without the disk fails the pod instead of the root disk taking the files), under the mount root of the node
        class's user data (its `ROOT=`), with the instance store not claimed by instanceStorePolicy. A Kubernetes
        quantity, or None when unknown."""
        if host_path.get("type") != "Directory":
            self.error(
                where,
                f"hostPath {host_path.get('path')} has type {host_path.get('type')!r}, not 'Directory':"
                " a node without the disk would fill its root disk",
            )
        root = os.path.dirname(host_path.get("path", ""))
        for node_class in by_kind.get("EC2NodeClass", []):
            if node_class["spec"].get("instanceStorePolicy"):
                self.error(
                    where,
                    f"EC2NodeClass {node_class['metadata']['name']} has instanceStorePolicy, which takes the"
                    f" instance-store disks the hostPath {host_path.get('path')} expects",
                )
            if f"ROOT={root}\n" not in node_class["spec"].get("userData", ""):
                self.error(
                    where,
                    f"EC2NodeClass {node_class['metadata']['name']}'s userData mounts no disks under {root}"
                    f" (hostPath {host_path.get('path')})",
                )
        for pool in by_kind.get("NodePool", []):
            for requirement in pool["spec"]["template"]["spec"].get("requirements", []):
                if requirement["key"] == "karpenter.k8s.aws/instance-local-nvme" and requirement["operator"] == "Gt":
                    return f"{int(requirement['values'][0]) // disks}G"
        self.error(where, f"no NodePool bounds the local NVMe behind hostPath {host_path.get('path')}")
        return None

    def check_policies(self, where, worker, by_kind):
        labels = pod_labels(worker)
        budgets = [b for b in by_kind.get("PodDisruptionBudget", []) if selects_match(b["spec"]["selector"], labels)]
        if len(budgets) != 1 or budgets[0]["spec"].get("maxUnavailable") != 1:
            self.error(where, "the workers need one PodDisruptionBudget with maxUnavailable 1")
        for monitor in by_kind.get("PodMonitor", []):
            if not selects_match(monitor["spec"]["selector"], labels):
                self.error(where, f"PodMonitor {monitor['metadata']['name']} does not select the workers")
            ports = {p.get("name") for p in self.container(worker).get("ports", [])}
            for endpoint in monitor["spec"].get("podMetricsEndpoints", []):
                if endpoint.get("port") not in ports:
                    self.error(where, f"PodMonitor scrapes port {endpoint.get('port')}, not a worker port")
        pod = worker["spec"]["template"]["spec"]
        classes = {c["metadata"]["name"] for c in by_kind.get("EC2NodeClass", [])}
        for pool in by_kind.get("NodePool", []):
            template = pool["spec"]["template"]["spec"]
            if template["nodeClassRef"]["name"] not in classes:
                self.error(where, f"NodePool {pool['metadata']['name']} names a missing EC2NodeClass")
            if pod.get("nodeSelector", {}).get("karpenter.sh/nodepool") != pool["metadata"]["name"]:
                self.error(where, f"the workers are not placed on NodePool {pool['metadata']['name']}")
            for taint in template.get("taints", []):
                if not any(tolerates(t, taint) for t in pod.get("tolerations", [])):
                    self.error(where, f"the workers do not tolerate the NodePool's taint {taint['key']}")
            node_grace = parse_duration_ms(template.get("terminationGracePeriod", "0s"))
            if node_grace < pod.get("terminationGracePeriodSeconds", 30) * 1000:
                self.error(where, "the NodePool's terminationGracePeriod cuts the workers' drain short")

    # ---- Spark examples ---------------------------------------------------------------------------------------
    def master_address(self):
        """HOST:PORT of the master for Spark: the ready-gated Service in the eks rendering."""
        documents = self.world.overlays["eks"]
        service = next(d for d in documents if d["kind"] == "Service" and d["metadata"]["name"] == "sluice-master")
        port = next(p["port"] for p in service["spec"]["ports"] if p["name"] == "data")
        return f"{service['metadata']['name']}.{service['metadata']['namespace']}.svc.cluster.local:{port}"

    def check_spark_conf(self, where, conf, spark_version, jar_uris):
        """The Sluice settings of one Spark job: known keys, the shuffle manager, the master, the jar of its line,
        dynamic allocation without shuffle tracking or the external shuffle service."""
        for key in conf:
            if key.startswith("spark.sluice.") and key not in self.world.spark_keys:
                self.error(where, f"{key} is not a key of the Spark client (docs/spark.md)")
        if conf.get("spark.shuffle.manager") != SHUFFLE_MANAGER:
            self.error(where, f"spark.shuffle.manager is not {SHUFFLE_MANAGER}")
        if conf.get("spark.sluice.master.address") != self.master_address():
            self.error(where, f"spark.sluice.master.address is not {self.master_address()}")
        for key in ("spark.shuffle.service.enabled", "spark.dynamicAllocation.shuffleTracking.enabled"):
            if str(conf.get(key, "false")).lower() != "false":
                self.error(where, f"{key} must be false: Sluice keeps the shuffle data")
        line = "3.5_2.12" if spark_version.startswith("3.5") else "4_2.13"
        jar = f"sluice-spark-{line}-{self.world.version}.jar"
        jar_uris = list(jar_uris) + [conf.get(f"spark.{role}.extraClassPath", "") for role in ("driver", "executor")]
        if not any(uri.endswith("/" + jar) for uri in jar_uris):
            self.error(where, f"no {jar} on the class path (Spark {spark_version})")
        if line == "3.5_2.12":
            for key in ("spark.driver.extraClassPath", "spark.executor.extraClassPath"):
                if not conf.get(key, "").endswith(jar):
                    self.error(where, f"Spark 3.5 needs {key} = the jar (docs/spark.md)")

    def check_spark_application(self, where, application):
        spec = application["spec"]
        where = f"{where} SparkApplication/{application['metadata']['name']}"
        conf = dict(spec.get("sparkConf", {}))
        jars = list(spec.get("deps", {}).get("jars", [])) + conf.get("spark.jars", "").split(",")
        allocation = spec.get("dynamicAllocation", {})
        if not allocation.get("enabled") or allocation.get("shuffleTrackingEnabled") is not False:
            self.error(where, "dynamicAllocation must be enabled with shuffleTrackingEnabled: false")
        self.check_spark_conf(where, conf, spec.get("sparkVersion", ""), jars)
        secret_file = conf.get("spark.sluice.auth.clientSecretFile")
        if secret_file:
            paths = [s["path"] for s in spec.get("driver", {}).get("secrets", [])]
            if not any(secret_file.startswith(path.rstrip("/") + "/") for path in paths):
                self.error(where, f"{secret_file} is not in a Secret mounted into the driver")
        self.check_gang(where, spec)
        for role in ("driver", "executor"):
            mounts = [m["mountPath"] for m in spec.get(role, {}).get("volumeMounts", [])]
            for uri in jars:
                path = uri.removeprefix("local://")
                if path.startswith("/mnt/") and not any(path.startswith(m.rstrip("/") + "/") for m in mounts):
                    self.error(where, f"{uri} is not under a volume mounted into the {role}")

    def check_gang(self, where, spec):
        """YuniKorn's task groups (on the driver) are JSON, name the groups the pods join, and reserve the
        executors dynamic allocation starts with."""
        annotations = spec.get("driver", {}).get("annotations", {})
        if "yunikorn.apache.org/task-groups" not in annotations:
            return
        try:
            groups = {group["name"]: group for group in json.loads(annotations["yunikorn.apache.org/task-groups"])}
        except (ValueError, KeyError, TypeError) as failure:
            self.error(where, f"yunikorn.apache.org/task-groups is not a JSON list of named groups: {failure}")
            return
        for role in ("driver", "executor"):
            pod = spec.get(role, {})
            name = pod.get("annotations", {}).get("yunikorn.apache.org/task-group-name")
            if name not in groups:
                self.error(where, f"the {role}'s task group {name!r} is not in yunikorn.apache.org/task-groups")
            if pod.get("schedulerName") != "yunikorn":
                self.error(where, f"the {role} is not scheduled by yunikorn")
        executor = groups.get(
            spec.get("executor", {}).get("annotations", {}).get("yunikorn.apache.org/task-group-name")
        )
        minimum = spec.get("dynamicAllocation", {}).get("minExecutors")
        if executor and executor.get("minMember") != minimum:
            self.error(where, f"the executor group reserves {executor.get('minMember')}, minExecutors is {minimum}")

    def check_spark(self):
        applications = 0
        for name, content in self.world.spark.items():
            where = f"deploy/spark/{name}"
            if name.endswith(".yaml"):
                for document in content:
                    self.validate_schema(where, document)
                    if document["kind"] == "SparkApplication":
                        applications += 1
                        self.check_spark_application(where, document)
            elif name.endswith(".json"):
                self.check_emr(where, content)
            elif name.endswith(".sh"):
                self.check_submit_script(where, content)
        if applications < 2:
            self.error("deploy/spark", "expected a SparkApplication and its YuniKorn variant")

    def check_emr(self, where, request):
        """The request against botocore's model of emr-containers StartJobRun (unknown fields refused), then its
        Spark settings."""
        model = botocore.session.get_session().get_service_model("emr-containers")
        shape = model.operation_model("StartJobRun").input_shape
        # The CLI fills idempotency tokens (clientToken) itself, as botocore's clients do.
        request = dict(request)
        for name, member in shape.members.items():
            if member.metadata.get("idempotencyToken") and name not in request:
                request[name] = "filled-by-the-client"
        report = botocore.validate.ParamValidator().validate(request, shape)
        if report.has_errors():
            self.error(where, report.generate_report().replace("\n", "; "))
            return
        conf = {}
        for classification in request.get("configurationOverrides", {}).get("applicationConfiguration", []):
            if classification["classification"] == "spark-defaults":
                conf.update(classification.get("properties", {}))
        submit = request["jobDriver"]["sparkSubmitJobDriver"].get("sparkSubmitParameters", "")
        conf.update(submit_confs(shlex.split(submit)))
        release = re.match(r"emr-(\d+)\.", request["releaseLabel"])
        spark_version = "3.5" if release and int(release.group(1)) == 7 else "4"
        self.check_spark_conf(where, conf, spark_version, conf.get("spark.jars", "").split(","))

    def check_submit_script(self, where, text):
        """`spark-submit` lines of the example script: their --conf settings and --jars."""
        joined = re.sub(r"\\\n", " ", text)
        found = False
        for line in joined.splitlines():
            words = shlex.split(line, comments=True)
            if "spark-submit" not in [os.path.basename(w) for w in words[:2]]:
                continue
            found = True
            conf = submit_confs(words)
            version = re.search(r"SPARK_VERSION=\"?([0-9.]+)", text)
            jars = conf.get("spark.jars", "").split(",")
            self.check_spark_conf(where, conf, version.group(1) if version else "4", jars)
        if not found:
            self.error(where, "no spark-submit command found")

    def run(self):
        for overlay, documents in self.world.overlays.items():
            self.check_overlay(overlay, documents)
        self.check_spark()
        return self.errors


def submit_confs(words):
    """spark-submit arguments as Spark settings: --conf K=V, --jars, --master."""
    conf = {}
    for index, word in enumerate(words[:-1]):
        following = words[index + 1]
        if word == "--conf" and "=" in following:
            key, value = following.split("=", 1)
            conf[key] = value
        elif word == "--jars":
            conf["spark.jars"] = following
    return conf


def pod_labels(workload):
    return workload["spec"]["template"]["metadata"].get("labels", {})


def selects(selector, labels):
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def selects_match(selector, labels):
    """A LabelSelector (matchLabels and matchExpressions with In) against pod labels."""
    if not selects(selector.get("matchLabels", {}), labels) and selector.get("matchLabels"):
        return False
    for expression in selector.get("matchExpressions", []):
        if expression["operator"] == "In" and labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def resolve_port(target, workload):
    if isinstance(target, int):
        return target
    for port in workload["spec"]["template"]["spec"]["containers"][0].get("ports", []):
        if port.get("name") == target:
            return port["containerPort"]
    return None


def tolerates(toleration, taint):
    if toleration.get("key") != taint["key"] or toleration.get("effect", taint["effect"]) != taint["effect"]:
        return False
    return toleration.get("operator") == "Exists" or toleration.get("value") == taint.get("value")


# ---- self-test: each break must be reported -------------------------------------------------------------------
def find(documents, kind, name=None):
    return next(d for d in documents if d["kind"] == kind and (name is None or d["metadata"]["name"] == name))


def worker_container(world, overlay="eks"):
    return find(world.overlays[overlay], "StatefulSet")["spec"]["template"]["spec"]["containers"][0]


def host_volume(world, name):
    volumes = find(world.overlays[DISKS], "StatefulSet")["spec"]["template"]["spec"]["volumes"]
    return next(v["hostPath"] for v in volumes if v["name"] == name)


def set_env(container, name, value):
    for variable in container["env"]:
        if variable["name"] == name:
            variable["value"] = value
            return
    container["env"].append({"name": name, "value": value})


def spark_application(world):
    return next(d for d in world.spark["sparkapplication.yaml"] if d["kind"] == "SparkApplication")


def rename_key(mapping, old, new):
    mapping[new] = mapping.pop(old)


def drop_config_hash(world):
    documents = world.overlays["dev"]
    worker = find(documents, "StatefulSet")
    volume = next(v for v in worker["spec"]["template"]["spec"]["volumes"] if "configMap" in v)
    find(documents, "ConfigMap", volume["configMap"]["name"])["metadata"]["name"] = "sluice-worker-config"
    volume["configMap"]["name"] = "sluice-worker-config"


def break_conf(world):
    configmap = next(d for d in world.overlays["eks"] if "worker.conf" in d.get("data", {}))
    configmap["data"]["worker.conf"] += "worker.shutdownGrace = 10m\n"


BREAKS = [
    # (what is broken, how, a text the report must contain)
    (
        "SparkApplication field misspelled",
        lambda w: rename_key(spark_application(w)["spec"], "sparkConf", "sparkConfs"),
        "'sparkConfs' was unexpected",
    ),
    (
        "SparkApplication field of the wrong type",
        lambda w: spark_application(w)["spec"]["executor"].update(cores="two"),
        "is not of type 'integer'",
    ),
    (
        "StatefulSet without serviceName",
        lambda w: find(w.overlays["eks"], "StatefulSet")["spec"].pop("serviceName"),
        "serviceName None is not a headless Service",
    ),
    (
        "Deployment container field misspelled",
        lambda w: find(w.overlays["dev"], "Deployment")["spec"]["template"]["spec"]["containers"][0].update(
            imagePullPolicyy="Always"
        ),
        "'imagePullPolicyy' was unexpected",
    ),
    (
        "NodePool field misspelled",
        lambda w: rename_key(
            find(w.overlays["eks"], "NodePool")["spec"]["disruption"], "consolidateAfter", "consolidateAftr"
        ),
        "'consolidateAftr' was unexpected",
    ),
    (
        "EC2NodeClass enum value",
        lambda w: find(w.overlays["eks"], "EC2NodeClass")["spec"].update(instanceStorePolicy="RAID1"),
        "'RAID1' is not one of",
    ),
    (
        "PodMonitor field misspelled",
        lambda w: rename_key(
            find(w.overlays["eks"], "PodMonitor")["spec"], "podMetricsEndpoints", "podMetricEndpoints"
        ),
        "'podMetricEndpoints' was unexpected",
    ),
    ("ConfigMap without its content hash", drop_config_hash, "has no content hash"),
    ("unknown key in worker.conf", break_conf, "worker.shutdownGrace is not a sluice-worker key"),
    (
        "unknown SLUICE_ variable",
        lambda w: set_env(worker_container(w), "SLUICE_WORKER_MEMORY_BUDGT", "1GiB"),
        "SLUICE_WORKER_MEMORY_BUDGT is not a sluice-worker key",
    ),
    (
        "readiness probe on the wrong port",
        lambda w: worker_container(w)["readinessProbe"]["httpGet"].update(port=9101),
        "readinessProbe asks /readyz on port 9101",
    ),
    (
        "liveness probe on the wrong path",
        lambda w: worker_container(w)["livenessProbe"]["httpGet"].update(path="/health"),
        "livenessProbe asks /health",
    ),
    (
        "drain longer than the grace period",
        lambda w: find(w.overlays["eks"], "StatefulSet")["spec"]["template"]["spec"].update(
            terminationGracePeriodSeconds=300
        ),
        "terminationGracePeriodSeconds 300 does not cover",
    ),
    (
        "memory limit below the budget",
        lambda w: set_env(worker_container(w), "SLUICE_WORKER_MEMORY_BUDGET", "40GiB"),
        "limits.memory 48Gi is below",
    ),
    (
        "tier larger than its volume",
        lambda w: set_env(
            worker_container(w),
            "SLUICE_WORKER_TIERS",
            "kind=nvme dirs=/data/nvme capacity=700g; kind=ebs dirs=/data/ebs capacity=450g;"
            " kind=fsx dirs=/data/fsx capacity=1t",
        ),
        "tier nvme: 1 x capacity 700g exceeds volume nvme",
    ),
    (
        "tier directory not mounted",
        lambda w: set_env(
            worker_container(w, "dev"),
            "SLUICE_WORKER_TIERS",
            "kind=nvme dirs=/mnt/nvme capacity=1g; kind=ebs dirs=/data/ebs capacity=1g;"
            " kind=fsx dirs=/data/fsx capacity=1g",
        ),
        "directory /mnt/nvme is not a volume mount",
    ),
    (
        "disk by disk: a tier directory not mounted",
        lambda w: set_env(
            worker_container(w, DISKS),
            "SLUICE_WORKER_TIERS",
            "kind=nvme dirs=/data/nvme0,/data/nvme2 capacity=1200g; kind=ebs dirs=/data/ebs capacity=450g;"
            " kind=fsx dirs=/data/fsx capacity=1t",
        ),
        "tier nvme directory /data/nvme2 is not a volume mount",
    ),
    (
        "disk by disk: a capacity larger than one disk",
        lambda w: set_env(
            worker_container(w, DISKS),
            "SLUICE_WORKER_TIERS",
            "kind=nvme dirs=/data/nvme0,/data/nvme1 capacity=1400g; kind=ebs dirs=/data/ebs capacity=450g;"
            " kind=fsx dirs=/data/fsx capacity=1t",
        ),
        "tier nvme: 1 x capacity 1400g exceeds volume nvme0 (1400G)",
    ),
    (
        "disk by disk: a hostPath the kubelet would create on the root disk",
        lambda w: host_volume(w, "nvme1").update(type="DirectoryOrCreate"),
        "hostPath /mnt/sluice/nvme1 has type 'DirectoryOrCreate', not 'Directory'",
    ),
    (
        "disk by disk: the instance store still striped as RAID0",
        lambda w: find(w.overlays[DISKS], "EC2NodeClass")["spec"].update(instanceStorePolicy="RAID0"),
        "has instanceStorePolicy, which takes the instance-store disks",
    ),
    (
        "disk by disk: user data mounting elsewhere",
        lambda w: find(w.overlays[DISKS], "EC2NodeClass")["spec"].update(
            userData=find(w.overlays[DISKS], "EC2NodeClass")["spec"]["userData"].replace("/mnt/sluice", "/mnt/disks")
        ),
        "userData mounts no disks under /mnt/sluice",
    ),
    (
        "disk by disk: a user data script error",
        lambda w: find(w.overlays[DISKS], "EC2NodeClass")["spec"].update(
            userData=find(w.overlays[DISKS], "EC2NodeClass")["spec"]["userData"].replace('"$disk"', "$disk")
        ),
        "shellcheck: ",
    ),
    (
        "worker id not from the pod name",
        lambda w: set_env(worker_container(w), "SLUICE_WORKER_WORKER_ID", "worker"),
        "worker.workerId must be the pod's name",
    ),
    (
        "environment reference before its definition",
        lambda w: worker_container(w)["env"].insert(0, {"name": "SLUICE_WORKER_ADVERTISED_HOST", "value": "$(POD_IP)"}),
        "refers to $(POD_IP), not defined before it",
    ),
    (
        "NodePool grace shorter than the drain",
        lambda w: find(w.overlays["eks"], "NodePool")["spec"]["template"]["spec"].update(terminationGracePeriod="5m"),
        "terminationGracePeriod cuts the workers' drain short",
    ),
    (
        "Spark with shuffle tracking",
        lambda w: spark_application(w)["spec"]["dynamicAllocation"].update(shuffleTrackingEnabled=True),
        "shuffleTrackingEnabled: false",
    ),
    (
        "YuniKorn gang smaller than minExecutors",
        lambda w: next(d for d in w.spark["sparkapplication-yunikorn.yaml"] if d["kind"] == "SparkApplication")["spec"][
            "dynamicAllocation"
        ].update(minExecutors=6),
        "the executor group reserves 4, minExecutors is 6",
    ),
    (
        "Spark client key misspelled",
        lambda w: spark_application(w)["spec"]["sparkConf"].update({"spark.sluice.fetch.windw": "4"}),
        "spark.sluice.fetch.windw is not a key",
    ),
    (
        "EMR request field misspelled",
        lambda w: rename_key(w.spark["emr-start-job-run.json"], "releaseLabel", "release"),
        'Unknown parameter in input: "release"',
    ),
    (
        "tier watermarks inverted (only a start of the worker refuses them)",
        lambda w: set_env(
            worker_container(w, "dev"),
            "SLUICE_WORKER_TIERS",
            "kind=nvme dirs=/data/nvme capacity=1g high=0.5 low=0.8; kind=ebs dirs=/data/ebs capacity=1g;"
            " kind=fsx dirs=/data/fsx capacity=1g",
        ),
        "sluice-worker --check-config",
    ),
    (
        "spark-submit without the jar",
        lambda w: w.spark.update({"spark-submit.sh": w.spark["spark-submit.sh"].replace("--jars", "--files")}),
        "no sluice-spark-4_2.13",
    ),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kubectl", required=True)
    parser.add_argument("--bin-dir", required=True, help="directory of the built sluice-master and sluice-worker")
    parser.add_argument("--shellcheck", required=True, help="shellcheck, for the nodes' user data scripts")
    parser.add_argument("--kubernetes-version", default="1.33.0")
    parser.add_argument("--self-test", action="store_true")
    arguments = parser.parse_args()

    world = World(arguments.kubectl, arguments.bin_dir, arguments.shellcheck)
    schemas = load_crd_schemas()
    errors = Checker(world, schemas, arguments.kubernetes_version, run_binaries=True).run()
    counts = {overlay: len(documents) for overlay, documents in world.overlays.items()}
    print(f"deploy-tests: rendered {counts}; {len(world.spark)} Spark examples; {len(schemas)} CRD schemas")
    for error in errors:
        print(f"FAIL {error}")
    if errors:
        return 1
    print(
        "deploy-tests: manifests valid (schemas, config keys via --check-config, ports, probes, drain, memory, tiers,"
        " user data via shellcheck)"
    )
    if not arguments.self_test:
        return 0
    missed = 0
    for what, breaking, expected in BREAKS:
        broken = copy.deepcopy(world)
        breaking(broken)
        # The servers' own check and shellcheck run only where the break needs them (the slowest part).
        binaries = "--check-config" in expected or "shellcheck" in expected
        found = Checker(broken, schemas, arguments.kubernetes_version, run_binaries=binaries).run()
        if any(expected in error for error in found):
            print(f"self-test: rejected {what}")
        else:
            missed += 1
            print(f"FAIL self-test: {what} was not reported as {expected!r}; reported: {found}")
    print(f"deploy-tests: self-test {len(BREAKS) - missed} of {len(BREAKS)} breaks rejected")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
