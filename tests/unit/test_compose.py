"""docker-compose.yml, its Dockerfile and the Prometheus/Grafana files, checked against the code.

There is no Docker engine where the tests run, so the stack is never started here: instead every
name, port, path and metric in those files is checked against what the code actually reads,
serves and registers. A renamed setting, a moved port or a renamed metric fails here rather than
in a user's `docker compose up` or on an empty Grafana panel.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from cli.main import build_parser
from phoneunify.settings import DEFAULT_DATABASE_URL, Settings, SettingsError, env_var

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DATASOURCES = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDERS = ROOT / "deploy" / "grafana" / "provisioning" / "dashboards" / "dashboards.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "phoneunify.json"
CODE_PACKAGES = ("phoneunify", "ingest", "workers", "schema", "api")

APP_SERVICES = ("migrate", "ingest", "workers", "resolver", "writer", "profiles", "api")
REQUIRED_SERVICES = {"kafka", "postgres", *APP_SERVICES, "prometheus", "grafana"}
# Labels Prometheus adds to every scraped series.
TARGET_LABELS = frozenset({"job", "instance"})


@dataclass(frozen=True)
class Server:
    """One HTTP server a phoneunify process runs, named by the settings that place it."""

    host_field: str
    port_field: str

    def host(self, settings: Settings) -> str:
        return str(getattr(settings, self.host_field))

    def port(self, settings: Settings) -> int:
        return int(getattr(settings, self.port_field))


# The same servers deploy/stack.sh waits on.
SERVERS = {
    "ingest": Server("ingest_host", "ingest_port"),
    "workers": Server("worker_web_host", "worker_web_port"),
    "resolver": Server("worker_web_host", "worker_web_port"),
    "writer": Server("writer_metrics_host", "writer_metrics_port"),
    "profiles": Server("profile_metrics_host", "profile_metrics_port"),
    "api": Server("api_host", "api_port"),
}


# ---- loading ---------------------------------------------------------------------------------


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@cache
def compose() -> dict[str, Any]:
    data = _yaml(COMPOSE)
    assert isinstance(data, dict)
    return data


def services() -> dict[str, Any]:
    return dict(compose()["services"])


_INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?]([^}]*))?\}")


def interpolate(value: object) -> str:
    """Compose's `${VAR:-default}` as a user without an .env file gets it: the default."""
    return _INTERPOLATION.sub(lambda m: m.group(2) or "", str(value))


def environment(service: str) -> dict[str, str]:
    """The service's environment as a user with an empty shell gets it (a name without a value
    is passed from the shell, so it is unset here)."""
    env = services()[service].get("environment") or {}
    if isinstance(env, list):  # the `- NAME=value` form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): interpolate(v) for k, v in env.items() if v is not None}


def passed_from_the_shell(service: str) -> set[str]:
    env = services()[service].get("environment") or {}
    return {str(k) for k, v in env.items() if v is None}


def settings_of(service: str) -> Settings:
    """The Settings the service's process builds from its environment, parsed by the real code."""
    return Settings.from_env(environment(service))


def published(service: str) -> list[tuple[str, int, int]]:
    """(host ip, host port, container port) of every `ports:` entry in short syntax."""
    out = []
    for entry in services()[service].get("ports", []):
        parts = str(entry).split(":")
        ip = parts[0] if len(parts) == 3 else "0.0.0.0"
        out.append((ip, int(parts[-2]), int(parts[-1])))
    return out


def bind_mounts(service: str) -> dict[str, Path]:
    """Container path -> repository path of every bind mount of a service."""
    out = {}
    for volume in services()[service].get("volumes", []):
        source, target = str(volume).split(":")[:2]
        if source.startswith((".", "/")):
            out[target] = (ROOT / source).resolve()
    return out


def healthcheck_url(service: str) -> str:
    test = services()[service]["healthcheck"]["test"]
    text = " ".join(test) if isinstance(test, list) else str(test)
    found = re.search(r"https?://[^\s'\"]+", text)
    assert found, f"{service}: no URL in its healthcheck {test!r}"
    return found.group(0)


# ---- what the code serves and registers -------------------------------------------------------


@cache
def _apps() -> dict[str, Any]:
    """Each process's app built the way its entrypoint builds it, with fresh registries and no I/O."""
    from api.app import create_app as create_api
    from ingest.app import create_app as create_ingest
    from phoneunify.lag import LagExporter
    from tests.fakes import FakePublisher
    from workers.bootstrap import workers_app
    from workers.profiles.service import ProfileMetrics
    from workers.timeline.writer import WriterMetrics

    settings = Settings()
    engine = create_engine("sqlite://")  # never connected: the apps only keep it
    out: dict[str, Any] = {}
    registry = CollectorRegistry()
    out["ingest"] = (create_ingest(settings, FakePublisher(), registry), registry)
    registry = CollectorRegistry()
    out["api"] = (create_api(settings, engine, FakePublisher(), registry), registry)
    LagExporter(settings, registry)  # api/__main__.py serves the consumer lag too (not started here)
    registry = CollectorRegistry()
    out["workers"] = (workers_app(settings, registry), registry)
    out["resolver"] = out["workers"]  # the same program, running other stages
    registry = CollectorRegistry()
    WriterMetrics.create(registry)
    out["writer"] = (None, registry)
    registry = CollectorRegistry()
    ProfileMetrics.create(registry)
    Gauge("phoneunify_profile_fetcher_enabled", "(workers/profiles/__main__.py)", registry=registry)
    out["profiles"] = (None, registry)
    return out


def served_paths(service: str) -> set[str]:
    """The HTTP paths a process answers (the writer's prometheus_client server answers any path)."""
    app, _ = _apps()[service]
    if service in ("writer", "profiles"):
        return {"/metrics"}
    if service in ("workers", "resolver"):
        return set(app.web.views)
    # Included routers and mounts are routes without a path of their own (the console's, say).
    return {path for route in app.routes if (path := getattr(route, "path", None))}


_SAMPLE_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "gauge": ("",),
    "info": ("_info",),
    "stateset": ("",),
    "enum": ("",),
    "unknown": ("",),
}


def _series(registry: CollectorRegistry) -> Iterator[tuple[str, frozenset[str]]]:
    # prometheus_client has no public list of a metric's label names: read them off its collectors.
    for collector in list(registry._collector_to_names):
        labels = frozenset(getattr(collector, "_labelnames", ()))
        for family in collector.collect():
            if hasattr(collector, "LABELS"):  # a custom collector names its families' labels
                labels = frozenset(collector.LABELS.get(family.name, ()))
            for suffix in _SAMPLE_SUFFIXES[family.type]:
                extra = {"le"} if suffix == "_bucket" else set()
                yield family.name + suffix, labels | extra


@cache
def exposed_metrics() -> dict[str, frozenset[str]]:
    """Every series name any phoneunify process exposes at /metrics, with its label names."""
    out: dict[str, frozenset[str]] = {}
    for _, registry in _apps().values():
        out.update(_series(registry))
    return out


@cache
def code_text() -> str:
    return "\n".join(
        path.read_text(encoding="utf-8") for pkg in CODE_PACKAGES for path in (ROOT / pkg).rglob("*.py")
    )


# ---- PromQL, just enough to name what an expression reads --------------------------------------

_SELECTOR = re.compile(r"\b(phoneunify_\w+|up)\b\s*(\{[^}]*\})?")
_MATCHER = re.compile(r"(\w+)\s*(=~|!~|!=|=)\s*\"([^\"]*)\"")
_GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def check_promql(expr: str, where: str) -> set[str]:
    """Fail unless every metric, label and label value in `expr` exists; return the metrics read."""
    metrics = exposed_metrics()
    names: set[str] = set()
    labels_in_scope: set[str] = set(TARGET_LABELS)
    for match in _SELECTOR.finditer(expr):
        name, selector = match.group(1), match.group(2) or ""
        if name == "up":
            known = TARGET_LABELS
        else:
            assert name in metrics, f"{where}: {name} is not registered by any process ({expr!r})"
            known = metrics[name] | TARGET_LABELS
        names.add(name)
        labels_in_scope |= known
        for label, op, value in _MATCHER.findall(selector):
            assert label in known, f"{where}: {name} has no label {label!r}"
            if label in TARGET_LABELS:
                continue
            words = value.split("|") if op in ("=~", "!~") else [value]
            for word in words:
                if re.fullmatch(r"[a-z_]+", word):  # a literal, not a pattern like 5..
                    assert f'"{word}"' in code_text(), f"{where}: no code sets {label}={word!r}"
    assert names, f"{where}: reads no metric ({expr!r})"
    for group in _GROUPING.findall(expr):
        for label in filter(None, (part.strip() for part in group.split(","))):
            assert label in labels_in_scope, f"{where}: groups by {label!r}, which no metric here has"
    return names


# ---- services --------------------------------------------------------------------------------


def test_every_service_is_defined() -> None:
    assert set(services()) >= REQUIRED_SERVICES


def test_kafka_is_the_official_image_in_kraft_mode() -> None:
    kafka = services()["kafka"]
    image = re.fullmatch(r"apache/kafka:(4\.\d+\.\d+)", kafka["image"])
    assert image, f"kafka must be a pinned 4.x tag of the official image, not {kafka['image']!r}"
    local = re.search(r"^KAFKA_VERSION=(\S+)$", (ROOT / "deploy/kafka/kafka.sh").read_text(), re.M)
    assert local and image.group(1) == local.group(1), "compose and deploy/kafka run different Kafka versions"

    env = {k: str(v) for k, v in kafka["environment"].items()}
    assert not any(k.startswith("KAFKA_ZOOKEEPER") for k in env)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    listeners = dict(re.findall(r"(\w+)://[^:,]*:(\d+)", env["KAFKA_LISTENERS"]))
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert controller in listeners
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:{listeners[controller]}"
    advertised = dict(re.findall(r"(\w+)://([^,]+)", env["KAFKA_ADVERTISED_LISTENERS"]))
    assert controller not in advertised and set(advertised) <= set(listeners)
    assert advertised["PLAINTEXT"] == f"kafka:{listeners['PLAINTEXT']}"
    protocols = dict(pair.split(":") for pair in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(listeners) <= set(protocols)
    for name in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR",
    ):
        assert env[name] == "1", f"{name} must be 1 on a single node"
    assert env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == "0"
    # The storage tool accepts only a base64url-encoded 16-byte UUID.
    assert len(base64.urlsafe_b64decode(env["CLUSTER_ID"] + "==")) == 16
    assert "/var/lib/kafka/data" in {str(v).split(":")[1] for v in kafka["volumes"]}
    assert env["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_environment_names_only_settings(service: str) -> None:
    allowed = {env_var(f.name) for f in fields(Settings)}
    env = environment(service)
    unknown = set(env) - allowed
    assert not unknown, f"{service}: no setting reads {sorted(unknown)}"
    assert {"KAFKA_BOOTSTRAP", "DATABASE_URL"} <= set(env)
    settings_of(service)  # every value parses as its field's type


@pytest.mark.parametrize("service", APP_SERVICES)
def test_secrets_come_from_the_user_or_development_mode_never_from_this_file(service: str) -> None:
    """The compose file holds no secret value: each comes from the user's shell or .env, or, when
    the user asks for development mode (PHONEUNIFY_ENV=dev), from the published development values.
    Without either, a process refuses to start: compose fails closed like every other way to run."""
    secrets = {env_var(f.name) for f in fields(Settings) if f.metadata.get("secret")}
    assert secrets <= passed_from_the_shell(service)
    assert secrets.isdisjoint(environment(service))
    assert settings_of(service).env == "production", "compose's default must fail closed"
    with pytest.raises(SettingsError, match="PHONEUNIFY_PHONE_HASH_KEY is not set"):
        settings_of(service).require(service, "phone_hash_key")
    dev = Settings.from_env({**environment(service), "PHONEUNIFY_ENV": "dev"})
    dev.require(service, "phone_hash_key", "api_tokens")  # development values fill them


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_reaches_kafka_and_postgres_services(service: str) -> None:
    settings = settings_of(service)
    kafka_env = services()["kafka"]["environment"]
    advertised = {addr for _, addr in re.findall(r"(\w+)://([^,]+)", kafka_env["KAFKA_ADVERTISED_LISTENERS"])}
    for server in settings.kafka_bootstrap.split(","):
        assert server in advertised, f"{service}: {server} is not a listener the broker advertises"

    url = make_url(settings.database_url)
    pg = {k: interpolate(v) for k, v in services()["postgres"]["environment"].items()}
    assert (url.host, url.port or 5432) == ("postgres", 5432)
    assert url.username == pg["POSTGRES_USER"]
    assert url.password == pg["POSTGRES_PASSWORD"]
    assert url.database == pg["POSTGRES_DB"]
    assert url.drivername == make_url(DEFAULT_DATABASE_URL).drivername


def test_app_services_build_one_image_from_the_dockerfile() -> None:
    for service in APP_SERVICES:
        build = services()[service]["build"]
        assert (ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE


def test_commands_are_cli_subcommands() -> None:
    parser = build_parser()
    for service in ("ingest", "workers", "writer", "profiles", "api"):
        command = services()[service]["command"]
        assert command == [service]
        assert parser.parse_args(command).command == service

    assert services()["resolver"]["command"] == ["workers"]

    migrate = services()["migrate"]
    assert migrate["entrypoint"] == ["/bin/sh", "-c"]
    steps = [shlex.split(step) for step in " ".join(migrate["command"]).split("&&")]
    assert [step[0] for step in steps] == ["phoneunify", "phoneunify"]
    assert [parser.parse_args(step[1:]).command for step in steps] == ["migrate", "topics"]
    assert migrate["restart"] == "no"


@pytest.mark.parametrize("service", sorted(SERVERS))
def test_servers_listen_where_healthchecks_and_ports_look(service: str) -> None:
    settings = settings_of(service)
    server = SERVERS[service]
    assert server.host(settings) == "0.0.0.0", f"{service} must bind all interfaces in a container"

    url = urlsplit(healthcheck_url(service))
    assert url.hostname in {"127.0.0.1", "localhost"}
    assert url.port == server.port(settings), f"{service}: healthcheck port is not the one it listens on"
    assert url.path in served_paths(service)

    for _, host_port, container_port in published(service):
        assert container_port == server.port(settings), f"{service}: publishes a port it does not serve"
        # The host side keeps the settings' defaults, so a checkout's defaults reach the container.
        assert host_port == server.port(Settings())


def test_the_workers_services_split_the_stages_between_them() -> None:
    """Extract in `workers`, resolve and the admin commands in `resolver`: every stage runs, once."""
    from workers.streams.app import STAGES

    extract, resolve = settings_of("workers").worker_stages, settings_of("resolver").worker_stages
    assert extract == ("extract",) and resolve == ("resolve", "commands")
    assert sorted(extract + resolve) == sorted(STAGES)


def test_kafka_and_postgres_are_where_the_default_settings_look() -> None:
    """`phoneunify demo` run from a checkout with no configuration reaches the compose stack."""
    defaults = Settings()
    host, port = defaults.kafka_bootstrap.split(",")[0].rsplit(":", 1)
    kafka_env = services()["kafka"]["environment"]
    assert f"{host}:{port}" in kafka_env["KAFKA_ADVERTISED_LISTENERS"]
    assert ("127.0.0.1", int(port), int(port)) in published("kafka")

    url = make_url(DEFAULT_DATABASE_URL)
    assert ("127.0.0.1", url.port, 5432) in published("postgres")


def test_published_ports_are_loopback_only() -> None:
    for name in services():
        for ip, _, _ in published(name):
            assert ip == "127.0.0.1", f"{name} publishes on {ip}: the dev secrets would be exposed"


def test_every_long_running_service_restarts_by_itself() -> None:
    """Docker is the supervisor under compose: a process that exits (the workers exit 70 on
    purpose when the database stays down or their resolver child dies) is started again."""
    for name, service in services().items():
        if name == "migrate":
            assert service["restart"] == "no"
            continue
        policy = service.get("restart")
        assert policy in {"always", "unless-stopped", "on-failure"}, f"{name} has no restart policy"


def test_long_running_services_have_healthchecks() -> None:
    for name, service in services().items():
        if name == "migrate":
            assert "healthcheck" not in service
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in {"CMD", "CMD-SHELL"}, f"{name} has no healthcheck"
    assert "kafka-broker-api-versions.sh --bootstrap-server localhost:9092" in " ".join(
        services()["kafka"]["healthcheck"]["test"]
    )
    assert "pg_isready" in " ".join(services()["postgres"]["healthcheck"]["test"])


def test_start_order() -> None:
    def conditions(name: str) -> dict[str, str]:
        return {dep: spec["condition"] for dep, spec in services()[name].get("depends_on", {}).items()}

    assert conditions("migrate") == {"postgres": "service_healthy", "kafka": "service_healthy"}
    for name in ("ingest", "workers", "resolver", "writer", "profiles", "api"):
        assert conditions(name) == {"migrate": "service_completed_successfully"}
        assert services()[name]["restart"] in {"always", "unless-stopped", "on-failure"}
    assert conditions("grafana") == {"prometheus": "service_healthy"}
    for name in services():
        for dep, condition in conditions(name).items():
            if condition == "service_healthy":
                assert "healthcheck" in services()[dep]


def test_every_mounted_file_exists_and_named_volumes_are_declared() -> None:
    declared = set(compose().get("volumes") or {})
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which is not in the repository"
                assert (ROOT / source).resolve().is_relative_to(ROOT)
            else:
                assert source in declared, f"{name} uses the undeclared volume {source}"


# ---- Prometheus ------------------------------------------------------------------------------


def _prometheus_container_path(repo_path: Path) -> str:
    mounts = {path: target for target, path in bind_mounts("prometheus").items()}
    assert repo_path in mounts, f"{repo_path.name} is not mounted into prometheus"
    return mounts[repo_path]


def test_prometheus_loads_its_config_and_alert_rules() -> None:
    args = services()["prometheus"]["command"]
    assert f"--config.file={_prometheus_container_path(PROMETHEUS)}" in args
    assert _yaml(PROMETHEUS)["rule_files"] == [_prometheus_container_path(ALERTS)]


def test_prometheus_scrapes_every_component_where_it_serves_metrics() -> None:
    scraped: dict[str, str] = {}
    for job in _yaml(PROMETHEUS)["scrape_configs"]:
        path = job.get("metrics_path", "/metrics")
        for static in job["static_configs"]:
            for target in static["targets"]:
                host, port = target.rsplit(":", 1)
                assert host in SERVERS, f"job {job['job_name']}: {host} is no phoneunify service"
                assert int(port) == SERVERS[host].port(settings_of(host)), f"{host} serves on another port"
                assert path in served_paths(host), f"{host} does not serve {path}"
                scraped[host] = job["job_name"]
    assert set(scraped) == set(SERVERS)


# ---- Grafana ---------------------------------------------------------------------------------


def _datasource() -> dict[str, Any]:
    (source,) = _yaml(DATASOURCES)["datasources"]
    return dict(source)


def test_grafana_datasource_is_the_prometheus_service() -> None:
    source = _datasource()
    assert source["type"] == "prometheus"
    url = urlsplit(source["url"])
    assert url.hostname == "prometheus"
    prometheus_ports = {container for _, _, container in published("prometheus")}
    assert url.port in prometheus_ports

    mounts = bind_mounts("grafana")
    assert mounts["/etc/grafana/provisioning/datasources"] == DATASOURCES.parent
    assert mounts["/etc/grafana/provisioning/dashboards"] == DASHBOARD_PROVIDERS.parent
    (provider,) = _yaml(DASHBOARD_PROVIDERS)["providers"]
    assert mounts[provider["options"]["path"]] == DASHBOARD.parent


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def test_dashboard_queries_only_registered_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    uid = _datasource()["uid"]
    read: set[str] = set()
    exprs: list[str] = []
    for panel in _panels(dashboard["panels"]):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == uid, f"panel {panel['title']!r} uses another datasource"
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == uid
            read |= check_promql(target["expr"], f"panel {panel['title']!r}")
            exprs.append(target["expr"])

    for metric in (
        "phoneunify_ingest_requests_total",
        "phoneunify_worker_messages_total",
        "phoneunify_worker_batch_seconds_bucket",
        "phoneunify_edge_to_row_seconds_bucket",
        "phoneunify_phone_normalize_failures_total",
        "phoneunify_api_requests_total",
        "phoneunify_consumer_lag_records",
    ):
        assert metric in read, f"no panel shows {metric}"
    assert any('outcome="dead_letter"' in expr for expr in exprs), "no panel shows dead letters"
    assert any("histogram_quantile(0.99" in e and "edge_to_row" in e for e in exprs)
    assert any("histogram_quantile(0.5" in e and "edge_to_row" in e for e in exprs)


# ---- alert rules -----------------------------------------------------------------------------


def test_alert_rules_query_only_registered_metrics_and_cover_the_failures() -> None:
    rules = [rule for group in _yaml(ALERTS)["groups"] for rule in group["rules"]]
    exprs = {}
    for rule in rules:
        assert {"alert", "expr", "labels", "annotations"} <= set(rule)
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
        check_promql(rule["expr"], f"alert {rule['alert']}")
        exprs[rule["alert"]] = rule["expr"]

    def covered(*needles: str) -> bool:
        return any(all(needle in expr for needle in needles) for expr in exprs.values())

    assert covered("up{", "== 0"), "no alert for a target down"
    assert covered("phoneunify_worker_messages_total", 'outcome="dead_letter"')
    assert covered("phoneunify_timeline_events_total", 'outcome="dead_letter"')
    assert covered("phoneunify_ingest_requests_total", "unavailable")
    assert covered("histogram_quantile(0.99", "phoneunify_edge_to_row_seconds_bucket", "> 1")
    assert covered("phoneunify_phone_normalize_failures_total")
    assert covered("phoneunify_consumer_lag_records", "by (stage)"), "no alert on a stage's consumer lag"
    jobs = {job["job_name"] for job in _yaml(PROMETHEUS)["scrape_configs"]}
    target_down = next(expr for expr in exprs.values() if "up{" in expr)
    watched = re.search(r'job=~"([^"]+)"', target_down)
    assert watched and set(watched.group(1).split("|")) == jobs, "the target-down alert misses a job"


# ---- the image -------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of deploy/Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_dockerfile_installs_the_project_as_a_non_root_user() -> None:
    instructions = dockerfile()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert any(kw == "RUN" and "pip install ." in rest for kw, rest in instructions)
    # The image runs the phone core compiled (setup.py), whose build reads setup.py.
    assert any(kw == "RUN" and "PHONEUNIFY_COMPILE=1 pip install ." in rest for kw, rest in instructions)
    users = [rest for kw, rest in instructions if kw == "USER"]
    assert users and users[-1] not in {"root", "0"}
    entrypoints = [rest for kw, rest in instructions if kw == "ENTRYPOINT"]
    assert [json.loads(e) for e in entrypoints] == [["phoneunify"]]

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = {rest.split()[0] for kw, rest in instructions if kw == "COPY"}
    for pattern in include:
        package = pattern.rstrip("*")
        assert package in copied, f"deploy/Dockerfile does not copy the {package} package"
    for source in copied:
        assert (ROOT / source).exists(), f"deploy/Dockerfile copies {source}, which is not in the repository"


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".local", "*.egg-info", ".mypy_cache", ".pytest_cache"} <= ignored
    for keyword, rest in dockerfile():
        if keyword == "COPY":
            for source in rest.split()[:-1]:
                assert source not in ignored, f"deploy/Dockerfile copies {source}, which .dockerignore drops"


# ---- the three-broker layer (docker-compose.cluster.yml) ----------------------------------------

CLUSTER = ROOT / "docker-compose.cluster.yml"


def _merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """Compose's merge of a second file, as far as these files use it: mappings merge key by key."""
    out = dict(base)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@cache
def cluster() -> dict[str, Any]:
    merged = _merge(compose(), _yaml(CLUSTER))
    assert isinstance(merged, dict)
    return merged


def test_the_cluster_layer_runs_three_brokers_of_one_kraft_quorum() -> None:
    brokers = {
        name: {k: str(v) for k, v in service["environment"].items()}
        for name, service in cluster()["services"].items()
        if str(service.get("image", "")).startswith("apache/kafka")
    }
    assert set(brokers) == {"kafka", "kafka-2", "kafka-3"}
    voters = {f"{env['KAFKA_NODE_ID']}@{name}:9093" for name, env in brokers.items()}
    for name, env in brokers.items():
        assert set(env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")) == voters
        assert env["CLUSTER_ID"] == brokers["kafka"]["CLUSTER_ID"]
        assert f"PLAINTEXT://{name}:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
        for setting in ("OFFSETS_TOPIC_REPLICATION_FACTOR", "TRANSACTION_STATE_LOG_REPLICATION_FACTOR"):
            assert env[f"KAFKA_{setting}"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2"
        assert cluster()["services"][name]["image"] == services()["kafka"]["image"]
        assert cluster()["services"][name]["restart"] == "unless-stopped"
    assert len({env["KAFKA_NODE_ID"] for env in brokers.values()}) == 3


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_cluster_layer_replicates_phoneunify_s_topics_on_every_broker(service: str) -> None:
    env = {
        str(k): interpolate(v)
        for k, v in cluster()["services"][service]["environment"].items()
        if v is not None
    }
    settings = Settings.from_env(env)  # the real parsing and checks: min ISR at most the replicas
    assert settings.topic_replication_factor == 3
    assert settings.topic_min_insync_replicas == 2
    assert set(settings.kafka_bootstrap.split(",")) == {"kafka:9092", "kafka-2:9092", "kafka-3:9092"}
    from phoneunify.kafka_admin import topic_configs

    assert topic_configs(settings)["min.insync.replicas"] == "2"


def test_the_cluster_layer_waits_for_every_broker_and_declares_its_volumes() -> None:
    merged = cluster()
    migrate = merged["services"]["migrate"]["depends_on"]
    assert {name for name in migrate if name.startswith("kafka")} == {"kafka", "kafka-2", "kafka-3"}
    assert all(
        spec["condition"] == "service_healthy" for name, spec in migrate.items() if name.startswith("kafka")
    )
    declared = set(merged["volumes"])
    published: list[int] = []
    for name, service in merged["services"].items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name} uses the undeclared volume {source}"
        for entry in service.get("ports", []):
            ip, host_port, _ = str(entry).split(":")
            assert ip == "127.0.0.1"
            published.append(int(host_port))
    assert len(published) == len(set(published)), "two services publish one host port"


def test_the_compiled_phone_core_is_pure_domain_code() -> None:
    """setup.py compiles the modules pyproject lists (deploy/Dockerfile builds with it): each is there,
    and in the pure core, which imports no I/O (tests/unit/test_layers.py)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    compiled = pyproject["tool"]["phoneunify"]["compiled"]
    assert compiled
    for module in compiled:
        assert module.startswith("workers/domain/phone_"), module
        assert (ROOT / module).is_file(), module
