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

SERVICES = {"postgres", "redis", "mailpit", "migrate", "web", "worker", "beat"}
APP_SERVICES = ("web", "worker", "beat")
# Every service running the portal's image: the one-off migrate and the long-running three.
PORTAL_SERVICES = ("migrate", *APP_SERVICES)
IMAGE = re.compile(r"^service-portal:\$\{TAG:-[\w.-]+\}$")
LOCK = ROOT / "requirements" / "lock.txt"
I18N_LOCK = ROOT / "requirements" / "i18n-lock.txt"
DEV_LOCK = ROOT / "requirements" / "dev-lock.txt"
PYPROJECT = ROOT / "pyproject.toml"
README = ROOT / "README.md"
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
    """The service's command, or the image's CMD when it sets none."""
    cmd = services()[name].get("command")
    if cmd is None:
        assert services()[name].get("image", "").startswith("service-portal:")
        return dockerfile_cmd()
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


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


def dockerfile_stages() -> list[tuple[str, str | None, list[tuple[str, str]]]]:
    """(base, stage name or None, instructions) per FROM, in order; the last is the image."""
    stages: list[tuple[str, str | None, list[tuple[str, str]]]] = []
    for keyword, rest in dockerfile_instructions():
        if keyword == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            assert len(parts) in (1, 3), f"unexpected FROM {rest!r}"
            stages.append((parts[0], name, []))
        else:
            assert stages, "an instruction before the first FROM"
            stages[-1][2].append((keyword, rest))
    return stages


def stage_chain(index: int) -> list[tuple[str, str | None, list[tuple[str, str]]]]:
    """A stage and the stages it is built on, itself first."""
    stages = dockerfile_stages()
    names = {name: position for position, (_, name, _) in enumerate(stages) if name}
    chain = [stages[index]]
    while chain[-1][0] in names:
        chain.append(stages[names[chain[-1][0]]])
    return chain


def stage_runs(index: int, *, inherited: bool = True) -> list[str]:
    chain = stage_chain(index) if inherited else [dockerfile_stages()[index]]
    return [rest for _, _, body in chain for keyword, rest in body if keyword == "RUN"]


def locked(path: Path) -> dict[str, str]:
    """name -> version of a pip-compile lock file, every entry checked to carry a hash."""
    text = path.read_text()
    pins = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^\s\\;]+)", text, re.MULTILINE))
    entries = re.split(r"\n(?=[a-z0-9])", text.split("\n\n", 1)[-1])
    for entry in entries:
        if "==" in entry.split("\n", 1)[0]:
            assert "--hash=sha256:" in entry, f"{path.name}: no hash for {entry.splitlines()[0]}"
    return pins


def normalized(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def pyproject() -> dict[str, Any]:
    import tomllib

    return tomllib.loads(PYPROJECT.read_text())


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
def test_compose_defines_the_seven_services():
    missing = SERVICES - set(services())
    assert not missing, f"docker-compose.yml lacks services: {sorted(missing)}"


def test_one_image_built_once_and_run_by_every_portal_service():
    assert DOCKERFILE.is_file()
    builders = [name for name, service in services().items() if "build" in service]
    assert builders == ["migrate"], f"only one service builds the image, not {builders}"
    build = services()["migrate"]["build"]
    if isinstance(build, str):
        build = {"context": build}
    context = (COMPOSE_FILE.parent / build.get("context", ".")).resolve()
    assert context == ROOT, f"the image builds from {context}, not the repository root"
    assert (context / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE
    images = {services()[name].get("image") for name in PORTAL_SERVICES}
    assert len(images) == 1, f"the portal services run different images: {images}"
    image = images.pop()
    assert image and IMAGE.match(image), f"tag the image: service-portal:${{TAG:-...}}, not {image}"


def test_dockerfile_builds_a_non_root_portal_image():
    stages = dockerfile_stages()
    image = len(stages) - 1
    assert stage_chain(image)[-1][0] == "python:3.11-slim"
    runs = stage_runs(image)
    assert any(re.search(r"\bpip install\b.*\s\.(\s|$)", run) for run in runs)
    everywhere = [run for index in range(len(stages)) for run in stage_runs(index, inherited=False)]
    for step in ("manage.py compile_translations", "manage.py collectstatic --noinput"):
        matching = [run for run in everywhere if step in run]
        assert len(matching) == 1, f"the image build does not run `{step}` once"
        # Settings need a key with DEBUG off: a build-only one, on that RUN line alone.
        assert re.search(r"\bSECRET_KEY=\S+", matching[0]), f"`{step}` has no SECRET_KEY"
    assert any("collectstatic" in run for run in stage_runs(image, inherited=False))
    env = dockerfile_env()
    assert "SECRET_KEY" not in env
    assert not any(arg.split("=")[0].strip() == "SECRET_KEY" for arg in dockerfile("ARG"))
    assert env.get("DEBUG", "0") in ("0", "false", "False")
    assert env["PORTAL_VAR_DIR"] == "/app/var"
    users = [rest for keyword, rest in stages[image][2] if keyword == "USER"]
    assert users, "the image runs as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert any(
        re.search(rf"\bchown\b.*\b{re.escape(user)}\b.*\s/app/var(\s|$)", run) for run in runs
    ), "PORTAL_VAR_DIR is not handed to the non-root user"
    cmd = gunicorn_argv(dockerfile_cmd())
    assert wsgi_target(cmd) == ("portal.wsgi", "application")
    assert option_value(cmd, "--bind", "-b") == "0.0.0.0:8000"


def test_the_image_installs_the_locked_runtime_dependencies_only():
    stages = dockerfile_stages()
    image = len(stages) - 1
    installs = [run for run in stage_runs(image) if re.search(r"\bpip install\b.*-r\s", run)]
    assert installs == [
        run for run in installs if "--require-hashes" in run and "requirements/lock.txt" in run
    ], installs
    assert installs, "the image does not install requirements/lock.txt"
    # The translation catalogues are compiled in a build stage that has polib; the image copies
    # the compiled catalogues and never installs polib.
    compiling = next(
        index
        for index in range(len(stages))
        if any("compile_translations" in run for run in stage_runs(index, inherited=False))
    )
    assert compiling != image
    assert any("requirements/i18n-lock.txt" in run for run in stage_runs(compiling))
    assert not any("i18n-lock" in run for run in stage_runs(image))
    name = stages[compiling][1]
    assert any(
        keyword == "COPY" and f"--from={name}" in rest and "locale" in rest
        for keyword, rest in stages[image][2]
    )


def test_lock_files_pin_every_dependency_with_hashes():
    project = pyproject()["project"]
    runtime = {normalized(requirement) for requirement in project["dependencies"]}
    extras = project["optional-dependencies"]
    lock, i18n, dev = locked(LOCK), locked(I18N_LOCK), locked(DEV_LOCK)
    assert runtime <= set(lock), runtime - set(lock)
    # Development-only tools are not production dependencies.
    for tool in ("honcho", "polib", "pytest", "ruff"):
        assert tool not in runtime and tool not in lock, tool
        assert tool in dev, tool
    assert "polib" in i18n and "honcho" not in i18n
    assert {normalized(r) for r in extras["i18n"]} == {"polib"}
    assert {normalized(r) for r in extras["run"]} == {"honcho"}
    # One resolution: the three files agree on every package they share.
    for other in (i18n, dev):
        differing = {name for name in set(lock) & set(other) if lock[name] != other[name]}
        assert not differing, differing
    assert not any(name == "service-portal" for name in dev), "the project pins itself"
    # The Makefile installs the developer lock, then the project without resolving again.
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"pip install .*--require-hashes -r requirements/dev-lock\.txt", makefile)
    assert re.search(r"pip install .*--no-deps -e \.", makefile)


def test_python_312_is_allowed():
    assert pyproject()["project"]["requires-python"] == ">=3.11,<3.13"


def test_migrations_run_once_in_their_own_service():
    migrate = services()["migrate"]
    assert command("migrate")[:4] == ["python", "manage.py", "migrate", "--noinput"]
    assert str(migrate.get("restart")) == "no", "a one-off: it must not restart when done"
    for name in APP_SERVICES:
        argv = command(name)
        assert "migrate" not in argv and not any("manage.py migrate" in arg for arg in argv), name
        depends = services()[name].get("depends_on")
        assert isinstance(depends, dict), f"{name}: depends_on needs the long form"
        assert depends.get("migrate", {}).get("condition") == "service_completed_successfully"
    depends = migrate.get("depends_on")
    assert depends["postgres"]["condition"] == "service_healthy"


def test_web_serves_portal_wsgi_with_gunicorn_and_an_access_log():
    serve = gunicorn_argv(command("web"))
    assert wsgi_target(serve) == ("portal.wsgi", "application")
    assert option_value(serve, "--bind", "-b") == "0.0.0.0:8000"
    assert option_value(serve, "--access-logfile") == "-"
    access_format = option_value(serve, "--access-logformat")
    assert access_format and "%({x-request-id}o)s" in access_format, access_format


def test_web_counts_requests_of_every_gunicorn_worker():
    directory = environment("web").get("PROMETHEUS_MULTIPROC_DIR")
    assert directory, "without it each gunicorn worker's metrics are its own"
    assert directory in (services()["web"].get("tmpfs") or []), "a tmpfs: empty at every start"


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
    for name in PORTAL_SERVICES:
        env = environment(name)
        unknown = set(env) - known
        assert not unknown, f"{name} sets variables settings.py never reads: {sorted(unknown)}"
        missing = REQUIRED_ENV - set(env)
        assert not missing, f"{name} lacks {sorted(missing)}"


def test_app_services_run_with_debug_off_and_a_caller_supplied_secret_key():
    for name in PORTAL_SERVICES:
        env = environment(name)
        assert env["DEBUG"] in ("0", "false", "False")
        assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]+\}", env["SECRET_KEY"]), env["SECRET_KEY"]


def test_database_url_matches_the_postgres_service():
    pg = environment("postgres")
    assert services()["postgres"]["image"].split(":")[0] == "postgres"
    for name in PORTAL_SERVICES:
        url = urlsplit(environment(name)["DATABASE_URL"])
        assert url.scheme in ("postgres", "postgresql")
        assert url.hostname == "postgres"
        assert (url.port or 5432) == 5432
        assert url.username == pg["POSTGRES_USER"]
        assert url.password == pg["POSTGRES_PASSWORD"]
        assert url.path.lstrip("/") == pg["POSTGRES_DB"]


def test_redis_url_points_at_the_redis_service():
    assert services()["redis"]["image"].split(":")[0] == "redis"
    for name in PORTAL_SERVICES:
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
    for name in PORTAL_SERVICES:
        env = environment(name)
        assert env["EMAIL_HOST"] == "mailpit"
        assert int(env["EMAIL_PORT"]) == smtp_port
        # The console backend (settings' default) would print mail instead of sending it.
        assert env.get("EMAIL_BACKEND") == "django.core.mail.backends.smtp.EmailBackend"


def test_portal_services_wait_for_healthy_postgres_and_redis():
    for service in PORTAL_SERVICES:
        depends = services()[service].get("depends_on")
        assert isinstance(depends, dict), "depends_on needs the long form to wait for health"
        for name, probe in (("postgres", "pg_isready"), ("redis", "redis-cli")):
            assert depends.get(name, {}).get("condition") == "service_healthy"
            test = services()[name].get("healthcheck", {}).get("test")
            assert test, f"{name} has no healthcheck, so service_healthy never happens"
            assert probe in (test if isinstance(test, str) else " ".join(test))


def healthcheck_script(name: str) -> str:
    test = (services()[name].get("healthcheck") or {}).get("test")
    assert test, f"{name} has no healthcheck"
    if isinstance(test, str):
        return test
    assert test[0] in ("CMD", "CMD-SHELL"), test
    return " ".join(test[1:])


def test_worker_and_beat_have_healthchecks():
    worker = healthcheck_script("worker")
    assert re.search(r"\bcelery -A portal inspect ping\b", worker), worker
    assert "$$HOSTNAME" in worker or "${HOSTNAME}" in worker, "ping this worker, not any worker"
    beat = healthcheck_script("beat")
    # The heartbeat file portal/beat.py touches: settings put it in PORTAL_VAR_DIR.
    heartbeat = Path(dockerfile_env()["PORTAL_VAR_DIR"]) / "celerybeat-heartbeat"
    assert re.search(
        r'^BEAT_HEARTBEAT_FILE = str\(VAR_DIR / "celerybeat-heartbeat"\)$',
        SETTINGS_FILE.read_text(),
        re.MULTILINE,
    )
    assert f"'{heartbeat}'" in beat and "getmtime" in beat, beat


def test_images_are_pinned_to_versions():
    for name, service in services().items():
        image = str(service.get("image", ""))
        if name in PORTAL_SERVICES:
            continue
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: pin {image} to a version"
    mailpit = services()["mailpit"]["image"]
    assert re.fullmatch(r"axllent/mailpit:v\d+\.\d+\.\d+", mailpit), mailpit


def test_web_can_be_scaled():
    web = services()["web"]
    assert "container_name" not in web, "a fixed name allows one container only"
    for entry in web.get("ports") or []:
        assert isinstance(entry, str), "use the short form with a host port range"
        host = entry.rsplit(":", 1)[0]
        # Defaults filled in, as `docker compose` would with the variables unset.
        host = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", host)
        first, sep, last = host.rpartition(":")[-1].partition("-")
        assert sep, f"web publishes a fixed host port ({entry}): a second replica cannot start"
        assert int(last) - int(first) + 1 >= 3, f"{entry}: room for at least 3 replicas"


def test_readme_documents_the_operations_variables_and_procedures():
    readme = README.read_text()
    operations = {
        "LOG_FORMAT",
        "SENTRY_DSN",
        "SENTRY_ENVIRONMENT",
        "SENTRY_RELEASE",
        "SENTRY_TRACES_SAMPLE_RATE",
        "METRICS_TOKEN",
        "PROMETHEUS_MULTIPROC_DIR",
        "TRUSTED_PROXY_COUNT",
    }
    assert operations <= settings_env_names()
    compose_only = {"TAG", "WEB_PORT", "WEB_PORT_END"}
    missing = sorted(name for name in operations | compose_only if f"`{name}`" not in readme)
    assert not missing, f"README's environment table lacks {missing}"
    for section in ("## Backup and restore", "## Upgrades"):
        assert section in readme, section
    assert re.search(r"pg_dump .*-Fc", readme) and "docker compose run --rm migrate" in readme
    assert "requirements/compile.sh" in readme


def test_web_publishes_8000_exposed_by_the_image_and_checks_healthz():
    assert 8000 in container_ports("web")
    exposed = {int(port.split("/")[0]) for rest in dockerfile("EXPOSE") for port in rest.split()}
    assert 8000 in exposed
    test = services()["web"]["healthcheck"]["test"]
    script = test if isinstance(test, str) else " ".join(test)
    assert "urllib" in script  # the slim image has no curl
    assert re.search(r"http://(localhost|127\.0\.0\.1):8000/healthz\b", script)


def test_wsgi_modules_named_by_dockerfile_and_compose_exist():
    for argv in (dockerfile_cmd(), command("web")):
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
