"""What the code needs and what terraform/ declares, read offline (no terraform binary), and the
checks that hold them equal. ``problems(code, tf)`` lists every disagreement as one sentence;
tests/deploy/test_terraform_consistency.py asserts there are none, and that a deliberately
broken copy of either side is caught.

The code side:
* every ``functions/<name>/main.py`` and its trigger, read from its source:
  ``@functions_framework.cloud_event`` is an event subscriber (its topic is the one
  ``shared.events.SUBSCRIPTIONS`` lists it under), ``handle_worker(..., invoker="scheduler")``
  a scheduled job, ``handle_worker(...)`` a task target, anything else a public HTTP function;
* the secrets it reads (``FUNCTION_SECRETS``, itself checked against the code by
  tests/unit/test_function_secrets.py);
* the data plane it can reach through its imports (the same static walk): ``ports.tasks()``
  (enqueues), ``ports.bus()`` with the topic names it mentions (publishes), ``ports.blobs()``,
  ``ports.cipher()`` (the KMS key). An over-approximation, like the secrets walk: a module a
  function imports counts even if the function never calls it on its path.

The terraform side is ``var.functions`` (one entry per function) plus the resources built from
it; python-hcl2 gives strings with their HCL quotes and ``${...}`` for expressions, which
:func:`plain` removes.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

from shared.config import FUNCTION_SECRETS, Settings
from shared.events import SUBSCRIPTIONS
from tests.unit.test_function_secrets import modules_reached
from tools.wsgi import REPO, function_names

TERRAFORM = REPO / "terraform"
# Modules that define the ports rather than use them.
_PLUMBING = ("shared.runtime", "shared.ports", "shared.adapters", "shared.config")


def plain(value: Any) -> Any:
    """python-hcl2's output without HCL quoting and block markers."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items() if k not in ("__is_block__", "__comments__")}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def parse_all(directory: Path = TERRAFORM) -> dict[str, dict[str, Any]]:
    """Every ``.tf`` file parsed (raises on a syntax error), by file name."""
    return {path.name: plain(hcl2.load(path.open())) for path in sorted(directory.glob("*.tf"))}


@dataclass
class Terraform:
    functions: dict[str, dict[str, Any]]
    resources: dict[tuple[str, str], dict[str, Any]]
    locals: dict[str, Any]

    @classmethod
    def load(cls, directory: Path = TERRAFORM) -> "Terraform":
        functions: dict[str, dict[str, Any]] = {}
        resources: dict[tuple[str, str], dict[str, Any]] = {}
        local_values: dict[str, Any] = {}
        for parsed in parse_all(directory).values():
            for block in parsed.get("variable", []):
                if "functions" in block:
                    functions = dict(block["functions"]["default"])
            for block in parsed.get("resource", []):
                for kind, named in block.items():
                    for name, body in named.items():
                        resources[(kind, name)] = body
            for block in parsed.get("locals", []):
                local_values.update(block)
        return cls(functions, resources, local_values)

    def resource(self, kind: str, name: str) -> dict[str, Any] | None:
        return self.resources.get((kind, name))

    def topics(self) -> set[str]:
        return {f["topic"] for f in self.functions.values() if f.get("topic")} | {
            t for f in self.functions.values() for t in f.get("publishes", [])}


@dataclass
class Code:
    functions: dict[str, str]  # name -> kind
    topic_of: dict[str, str]
    secrets: dict[str, set[str]]
    enqueues: set[str] = field(default_factory=set)
    publishes: dict[str, set[str]] = field(default_factory=dict)
    blobs: set[str] = field(default_factory=set)
    kms: set[str] = field(default_factory=set)

    @classmethod
    def read(cls) -> "Code":
        names = function_names()
        code = cls({n: trigger_of(n) for n in names},
                   {fn: topic for topic, fns in SUBSCRIPTIONS.items() for fn in fns},
                   {n: set(FUNCTION_SECRETS.get(n, ())) for n in names})
        for name in names:
            calls, strings = _port_calls(name)
            if "tasks" in calls:
                code.enqueues.add(name)
            if "bus" in calls:
                code.publishes[name] = strings & set(SUBSCRIPTIONS)
            if "blobs" in calls:
                code.blobs.add(name)
            if "cipher" in calls:
                code.kms.add(name)
        return code

    def topics(self) -> set[str]:
        return set(SUBSCRIPTIONS) | {t for ts in self.publishes.values() for t in ts}


def trigger_of(function: str) -> str:
    tree = ast.parse((REPO / "functions" / function / "main.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            if any(isinstance(d, ast.Attribute) and d.attr == "cloud_event" for d in node.decorator_list):
                return "event"
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "handle_worker":
            invoker = next((k.value for k in node.keywords if k.arg == "invoker"), None)
            kinds = [e.value for e in invoker.elts if isinstance(e, ast.Constant)] if isinstance(invoker, ast.Tuple) \
                else [invoker.value] if isinstance(invoker, ast.Constant) else []
            return "scheduled" if "scheduler" in kinds else "task"
    return "http"


def _port_calls(function: str) -> tuple[set[str], set[str]]:
    """The ports a function's modules call (``x.tasks()`` ...) and the strings they contain."""
    calls: set[str] = set()
    strings: set[str] = set()
    for module, path in modules_reached(function).items():
        if module.startswith(_PLUMBING):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args:
                if node.func.attr in ("tasks", "bus", "blobs", "cipher"):
                    calls.add(node.func.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
    return calls, strings


def _settings_aliases() -> set[str]:
    return {(f.alias or name).upper() for name, f in Settings.model_fields.items()}


def problems(code: Code, tf: Terraform) -> list[str]:
    found: list[str] = []
    say = found.append
    entries = tf.functions

    for name in sorted(set(code.functions) - set(entries)):
        say(f"functions/{name} has no entry in var.functions (terraform/variables.tf)")
    for name in sorted(set(entries) - set(code.functions)):
        say(f"var.functions has {name}, but there is no functions/{name}/main.py")

    fn = tf.resource("google_cloudfunctions2_function", "fn")
    if fn is None:
        say("no google_cloudfunctions2_function.fn")
    else:
        if fn.get("for_each") != "${var.functions}":
            say("google_cloudfunctions2_function.fn is not one per entry of var.functions")
        if fn["build_config"][0].get("entry_point") != "${each.key}":
            say("the function's entry point is not its name (each.key)")
        service = fn["service_config"][0]
        mounts = service.get("dynamic", [])
        secret_block = next((d["secret_environment_variables"] for d in mounts
                             if "secret_environment_variables" in d), None)
        if secret_block is None or "each.value.secrets" not in secret_block.get("for_each", ""):
            say("the function mounts no secrets from its entry (secret_environment_variables over each.value.secrets)")
        elif "upper(secret_environment_variables.value)" not in str(secret_block["content"]):
            say("secrets are not mounted as the environment variable Settings reads (upper(name))")
        for variable in sorted(set(service.get("environment_variables", {})) - _settings_aliases()):
            say(f"environment variable {variable} is not a Settings field (shared/config.py)")
        if "ALLOW_INTERNAL_ONLY" not in str(service.get("ingress_settings")) or \
                "ALLOW_INTERNAL_AND_GCLB" not in str(service.get("ingress_settings")):
            say("ingress is not internal-only for workers and internal-and-load-balancer for http functions")

    for name, kind in sorted(code.functions.items()):
        entry = entries.get(name)
        if entry is None:
            continue
        if entry.get("kind") != kind:
            say(f"{name}: the code is a {kind} function, terraform says {entry.get('kind')}")
        if kind == "event" and entry.get("topic") != code.topic_of.get(name):
            say(f"{name}: subscribes to {code.topic_of.get(name)} (shared/events.py), terraform to {entry.get('topic')}")
        if kind == "scheduled" and not entry.get("schedule"):
            say(f"{name}: a scheduled function without a schedule")
        want, have = code.secrets.get(name, set()), set(entry.get("secrets", []))
        for secret in sorted(want - have):
            say(f"{name} reads {secret} but terraform does not mount it")
        for secret in sorted(have - want):
            say(f"{name} is given {secret}, which its code does not read")
        flags = {"enqueues": name in code.enqueues, "blobs": name in code.blobs, "kms": name in code.kms}
        for flag, needed in flags.items():
            if bool(entry.get(flag, False)) != needed:
                say(f"{name}: {flag} is {bool(entry.get(flag, False))} in terraform, the code says {needed}")
        if set(entry.get("publishes", [])) != code.publishes.get(name, set()):
            say(f"{name}: publishes {sorted(entry.get('publishes', []))} in terraform, "
                f"the code {sorted(code.publishes.get(name, set()))}")

    for topic in sorted(code.topics() - tf.topics()):
        say(f"topic {topic} (shared/events.py) is not in terraform")
    for topic in sorted(tf.topics() - code.topics()):
        say(f"terraform has topic {topic}, which no code uses")
    for kind, name, for_each in [("google_pubsub_topic", "topic", "local.topics"),
                                 ("google_pubsub_subscription", "push", "local.subscribers"),
                                 ("google_pubsub_topic", "dead_letter", "local.subscribers"),
                                 ("google_secret_manager_secret", "secret", "local.secrets"),
                                 ("google_secret_manager_secret_iam_member", "accessor", "local.secret_mounts"),
                                 ("google_cloud_scheduler_job", "scheduled", "scheduled"),
                                 ("google_cloud_tasks_queue_iam_member", "enqueuer", "local.enqueuers"),
                                 ("google_pubsub_topic_iam_member", "publisher", "local.publishers"),
                                 ("google_storage_bucket_iam_member", "blobs", "local.blob_users"),
                                 ("google_kms_crypto_key_iam_member", "envelope", "local.kms_users"),
                                 ("google_compute_region_network_endpoint_group", "fn", "local.public"),
                                 ("google_compute_backend_service", "fn", "local.public")]:
        body = tf.resource(kind, name)
        if body is None:
            say(f"{kind}.{name} is missing")
        elif for_each not in str(body.get("for_each", "")):
            say(f"{kind}.{name} is not built from {for_each}")
    push = tf.resource("google_pubsub_subscription", "push")
    if push is not None and "dead_letter_policy" not in push:
        say("the push subscriptions have no dead-letter policy")

    queue = tf.resource("google_cloud_tasks_queue", "default")
    if queue is None or queue.get("name") != Settings.model_fields["z3_tasks_queue"].default:
        say("the Cloud Tasks queue is not the one Settings names (Z3_TASKS_QUEUE)")
    if fn is not None:
        env = fn["service_config"][0].get("environment_variables", {})
        if "google_cloud_tasks_queue.default" not in str(env.get("Z3_TASKS_QUEUE")):
            say("Z3_TASKS_QUEUE is not the terraform queue")
        if "google_storage_bucket.data" not in str(env.get("Z3_BUCKET")):
            say("Z3_BUCKET is not the terraform data bucket")
        if tf.resource("google_storage_bucket", "data") is None:
            say("google_storage_bucket.data is missing")

    # Secrets: every one terraform creates is a Settings secret some function reads.
    secret_fields = set(Settings.secret_fields())
    declared = {s for f in entries.values() for s in f.get("secrets", [])}
    for secret in sorted(declared - secret_fields):
        say(f"terraform mounts {secret}, which is not a secret in Settings")
    if "f.secrets" not in str(tf.locals.get("secrets")):
        say("local.secrets is not the union of the functions' secrets")

    # Workers are never public: allUsers only on http functions, run.invoker for one caller.
    if "v.kind == \"http\"" not in str(tf.locals.get("public")):
        say("local.public is not exactly the http functions")
    for (kind, name), body in tf.resources.items():
        if "allUsers" in str(body.get("member", "")) and body.get("for_each") != "${local.public}":
            say(f"{kind}.{name} makes something public that is not an http function")
    worker = tf.resource("google_cloud_run_service_iam_member", "worker")
    if worker is None or worker.get("for_each") != "${local.workers}":
        say("workers have no run.invoker for their caller")
    elif "local.caller_of[each.value.kind]" not in str(worker.get("member")) or not all(
            f"{acct}.email" in str(tf.locals.get("caller_of", {}).get(kind))
            for kind, acct in (("task", "tasks_invoker"), ("event", "events_invoker"), ("scheduled", "scheduler_invoker"))):
        say("a worker kind has no caller identity")
    if "v.kind != \"http\"" not in str(tf.locals.get("workers")):
        say("local.workers is not every non-http function")
    url_map = tf.resource("google_compute_url_map", "lb")
    if url_map is None or "local.public" not in str(url_map.get("path_matcher")):
        say("the load balancer does not route /<function> of every public function")
    return found
