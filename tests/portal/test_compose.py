"""docker-compose.yml, the Dockerfile and the Procfile, checked without a Docker engine.

The files are parsed and cross-checked against each other and against what portal/settings.py
actually reads from the environment, so a renamed variable or service fails here, not at
`docker compose up`.
"""

from __future__ import annotations

import json
import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SETTINGS_FILE = ROOT / "portal" / "settings.py"
PROCFILE = ROOT / "Procfile"

SERVICES = {"postgres", "redis", "mailpit", "web", "worker", "beat"}
APP_SERVICES = ("web", "worker", "beat")
REQUIRED_ENV = {
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "EMAIL_HOST",
    "EMAIL_PORT",
}
MAILPIT_SMTP_DEFAULT_PORT = 1025

# `env.str("NAME", ...)`, `env.db_url("NAME", ...)`, ... and `environ.Env().str("NAME", ...)`.
SETTINGS_ENV_READ = re.compile(
    r"""\b(?:env|environ\.Env\(\))\.(?:str|bool|int|list|float|db_url)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
)
WSGI_TARGET = re.compile(r"^([A-Za-z_][\w.]*):([A-Za-z_]\w*)$")


# --- Parsing helpers -----------------------------------------------------------------------------
@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def environment(name: str) -> dict[str, str]:
    """A service's environment as a dict, from either the mapping or the `K=V` list form."""
    env = services()[name].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def command(name: str) -> list[str]:
    cmd = services()[name]["command"]
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def shell_steps(argv: list[str]) -> list[list[str]]:
    """`sh -c "a && b"` as [[a...], [b...]]: each step runs only if the one before succeeded."""
    assert argv[:2] == ["sh", "-c"], f"expected a `sh -c` command, got {argv}"
    assert len(argv) == 3, f"`sh -c` takes one script argument, got {argv[2:]}"
    return [shlex.split(step) for step in argv[2].split("&&")]


def celery_app_and_subcommand(argv: list[str]) -> tuple[str | None, str | None]:
    assert argv and argv[0] == "celery", f"expected a celery command, got {argv}"
    app = subcommand = None
    args = iter(argv[1:])
    for arg in args:
        if arg in ("-A", "--app"):
            app = next(args, None)
        elif arg.startswith("--app="):
            app = arg.split("=", 1)[1]
        elif arg.startswith("-A") and len(arg) > 2:
            app = arg[2:]
        elif not arg.startswith("-") and subcommand is None:
            subcommand = arg
    return app, subcommand


def option_value(argv: list[str], *names: str) -> str | None:
    for index, arg in enumerate(argv):
        if arg in names and index + 1 < len(argv):
            return argv[index + 1]
        for name in names:
            if name.startswith("--") and arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def container_ports(name: str) -> set[int]:
    """Container-side ports a service publishes (`ports`) or exposes to the network (`expose`)."""
    found: set[int] = set()
    service = services()[name]
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            found.add(int(entry["target"]))
        else:
            found.add(int(str(entry).split("/")[0].rsplit(":", 1)[-1]))
    for entry in service.get("expose") or []:
        found.add(int(str(entry).split("/")[0]))
    return found


@cache
def dockerfile_instructions() -> tuple[tuple[str, str], ...]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comment lines dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, rest = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return tuple(instructions)


def dockerfile(keyword: str) -> list[str]:
    return [rest for kw, rest in dockerfile_instructions() if kw == keyword]


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for rest in dockerfile("ENV"):
        for token in shlex.split(rest):
            key, sep, value = token.partition("=")
            assert sep, f"use the ENV KEY=value form, not {rest!r}"
            env[key] = value
    return env


def dockerfile_cmd() -> list[str]:
    cmds = dockerfile("CMD")
    assert cmds, "the Dockerfile has no CMD"
    cmd = json.loads(cmds[-1])  # the exec form, so signals reach gunicorn directly
    assert isinstance(cmd, list)
    return cmd


@cache
def settings_env_names() -> frozenset[str]:
    return frozenset(SETTINGS_ENV_READ.findall(SETTINGS_FILE.read_text()))


def procfile() -> dict[str, str]:
    processes: dict[str, str] = {}
    for line in PROCFILE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, cmd = line.partition(":")
            assert sep, f"not a Procfile line: {line!r}"
            processes[name.strip()] = cmd.strip()
    return processes


def gunicorn_argv(argv: list[str]) -> list[str]:
    assert argv and argv[0] == "gunicorn", f"expected gunicorn, got {argv}"
    return argv


def wsgi_target(argv: list[str]) -> tuple[str, str]:
    targets = [m.groups() for arg in argv[1:] if (m := WSGI_TARGET.match(arg))]
    assert len(targets) == 1, f"expected one module:callable argument in {argv}"
    return targets[0]


# --- The stack -----------------------------------------------------------------------------------
def test_compose_defines_the_six_services():
    missing = SERVICES - set(services())
    assert not missing, f"docker-compose.yml lacks services: {sorted(missing)}"


def test_app_services_build_from_the_repository_dockerfile():
    assert DOCKERFILE.is_file()
    for name in APP_SERVICES:
        build = services()[name].get("build")
        assert build is not None, f"{name} is not built from the Dockerfile"
        if isinstance(build, str):
            build = {"context": build}
        context = (COMPOSE_FILE.parent / build.get("context", ".")).resolve()
        assert context == ROOT, f"{name} builds from {context}, not the repository root"
        assert (context / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE


def test_dockerfile_builds_a_non_root_portal_image():
    assert dockerfile("FROM") == ["python:3.11-slim"]
    runs = dockerfile("RUN")
    assert any(re.search(r"\bpip install\b.*\s\.(\s|$)", run) for run in runs)
    for step in ("manage.py compile_translations", "manage.py collectstatic --noinput"):
        matching = [run for run in runs if step in run]
        assert len(matching) == 1, f"the image build does not run `{step}` once"
        # Settings need a key with DEBUG off: a build-only one, on that RUN line alone.
        assert re.search(r"\bSECRET_KEY=\S+", matching[0]), f"`{step}` has no SECRET_KEY"
    env = dockerfile_env()
    assert "SECRET_KEY" not in env
    assert not any(arg.split("=")[0].strip() == "SECRET_KEY" for arg in dockerfile("ARG"))
    assert env.get("DEBUG", "0") in ("0", "false", "False")
    assert env["PORTAL_VAR_DIR"] == "/app/var"
    users = dockerfile("USER")
    assert users, "the image runs as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert any(
        re.search(rf"\bchown\b.*\b{re.escape(user)}\b.*\s/app/var(\s|$)", run) for run in runs
    ), "PORTAL_VAR_DIR is not handed to the non-root user"
    cmd = gunicorn_argv(dockerfile_cmd())
    assert wsgi_target(cmd) == ("portal.wsgi", "application")
    assert option_value(cmd, "--bind", "-b") == "0.0.0.0:8000"


def test_web_migrates_then_serves_portal_wsgi_with_gunicorn():
    steps = shell_steps(command("web"))
    assert len(steps) == 2
    assert steps[0][:3] == ["python", "manage.py", "migrate"]
    assert "--noinput" in steps[0]
    serve = gunicorn_argv(steps[1])
    assert wsgi_target(serve) == ("portal.wsgi", "application")
    assert option_value(serve, "--bind", "-b") == "0.0.0.0:8000"


def test_worker_is_a_celery_worker_for_the_portal_app():
    argv = command("worker")
    assert celery_app_and_subcommand(argv) == ("portal", "worker")
    assert "-B" not in argv and "--beat" not in argv, "the worker must not embed a beat"


def test_exactly_one_celery_beat_for_the_portal_app():
    argv = command("beat")
    assert celery_app_and_subcommand(argv) == ("portal", "beat")
    beats = []
    for name, service in services().items():
        if "command" not in service:
            continue
        argv_of = command(name)
        if argv_of[:1] == ["celery"]:
            _, sub = celery_app_and_subcommand(argv_of)
            if sub == "beat" or "-B" in argv_of or "--beat" in argv_of:
                beats.append(name)
    assert beats == ["beat"]
    assert (services()["beat"].get("deploy") or {}).get("replicas", 1) == 1
    schedule = option_value(argv, "--schedule", "-s")
    assert schedule is not None
    assert Path(schedule).parent == Path(dockerfile_env()["PORTAL_VAR_DIR"])


# --- Environment ---------------------------------------------------------------------------------
def test_settings_env_pattern_finds_what_settings_reads():
    names = settings_env_names()
    # One of each reader: str, bool, list, db_url, int, float, and the bare environ.Env() read.
    expected = {
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "EMAIL_PORT",
        "HEARTBEAT_INTERVAL_SECONDS",
        "PORTAL_VAR_DIR",
        "CSRF_TRUSTED_ORIGINS",
        "SECURE_SSL_REDIRECT",
    }
    assert expected <= names
    # Settings that are assigned but never read from the environment.
    assert not {"SERVER_EMAIL", "STATIC_URL", "TIME_ZONE"} & names


def test_app_services_pass_only_variables_settings_reads():
    known = settings_env_names()
    for name in APP_SERVICES:
        env = environment(name)
        unknown = set(env) - known
        assert not unknown, f"{name} sets variables settings.py never reads: {sorted(unknown)}"
        missing = REQUIRED_ENV - set(env)
        assert not missing, f"{name} lacks {sorted(missing)}"


def test_app_services_run_with_debug_off_and_a_caller_supplied_secret_key():
    for name in APP_SERVICES:
        env = environment(name)
        assert env["DEBUG"] in ("0", "false", "False")
        assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]+\}", env["SECRET_KEY"]), env["SECRET_KEY"]


def test_database_url_matches_the_postgres_service():
    pg = environment("postgres")
    assert services()["postgres"]["image"].split(":")[0] == "postgres"
    for name in APP_SERVICES:
        url = urlsplit(environment(name)["DATABASE_URL"])
        assert url.scheme in ("postgres", "postgresql")
        assert url.hostname == "postgres"
        assert (url.port or 5432) == 5432
        assert url.username == pg["POSTGRES_USER"]
        assert url.password == pg["POSTGRES_PASSWORD"]
        assert url.path.lstrip("/") == pg["POSTGRES_DB"]


def test_redis_url_points_at_the_redis_service():
    assert services()["redis"]["image"].split(":")[0] == "redis"
    for name in APP_SERVICES:
        url = urlsplit(environment(name)["REDIS_URL"])
        assert url.scheme == "redis"
        assert url.hostname == "redis"
        assert (url.port or 6379) == 6379


def test_email_goes_over_smtp_to_the_mail_catcher():
    catchers = [
        name
        for name, service in services().items()
        if str(service.get("image", "")).split(":")[0] == "axllent/mailpit"
    ]
    assert catchers == ["mailpit"]
    bind = environment("mailpit").get("MP_SMTP_BIND_ADDR")
    smtp_port = int(bind.rsplit(":", 1)[1]) if bind else MAILPIT_SMTP_DEFAULT_PORT
    assert smtp_port in container_ports("mailpit")
    for name in APP_SERVICES:
        env = environment(name)
        assert env["EMAIL_HOST"] == "mailpit"
        assert int(env["EMAIL_PORT"]) == smtp_port
        # The console backend (settings' default) would print mail instead of sending it.
        assert env.get("EMAIL_BACKEND") == "django.core.mail.backends.smtp.EmailBackend"


def test_web_waits_for_healthy_postgres_and_redis():
    depends = services()["web"].get("depends_on")
    assert isinstance(depends, dict), "depends_on needs the long form to wait for health"
    for name, probe in (("postgres", "pg_isready"), ("redis", "redis-cli")):
        assert depends.get(name, {}).get("condition") == "service_healthy"
        test = services()[name].get("healthcheck", {}).get("test")
        assert test, f"{name} has no healthcheck, so service_healthy never happens"
        assert probe in (test if isinstance(test, str) else " ".join(test))


def test_web_publishes_8000_exposed_by_the_image_and_checks_healthz():
    assert 8000 in container_ports("web")
    exposed = {int(port.split("/")[0]) for rest in dockerfile("EXPOSE") for port in rest.split()}
    assert 8000 in exposed
    test = services()["web"]["healthcheck"]["test"]
    script = test if isinstance(test, str) else " ".join(test)
    assert "urllib" in script  # the slim image has no curl
    assert re.search(r"http://(localhost|127\.0\.0\.1):8000/healthz\b", script)


def test_wsgi_modules_named_by_dockerfile_and_compose_exist():
    for argv in (dockerfile_cmd(), shell_steps(command("web"))[-1]):
        module, attribute = wsgi_target(argv)
        path = ROOT / Path(*module.split(".")).with_suffix(".py")
        assert path.is_file(), f"{module} is not a module in the repository"
        assert re.search(rf"^{attribute}\s*=", path.read_text(), re.MULTILINE)


# --- Procfile ------------------------------------------------------------------------------------
def test_procfile_has_the_processes_compose_runs():
    processes = procfile()
    for name in APP_SERVICES:
        assert name in processes, f"the Procfile has no {name} process"
        assert name in services(), f"docker-compose.yml has no {name} service"
    for name in ("worker", "beat"):
        assert celery_app_and_subcommand(shlex.split(processes[name])) == ("portal", name)
        assert celery_app_and_subcommand(command(name)) == ("portal", name)
