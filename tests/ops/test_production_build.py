"""The production image's build steps, run without Docker: the Dockerfile's own commands, verbatim.

An operator building the image runs `pip install`, `collectstatic` (manifest storage, production
settings) and the deployment check; each must pass here so that the image builds.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _dockerfile() -> tuple[dict[str, str], list[str]]:
    """The Dockerfile's ENV values and RUN commands, in order."""
    env: dict[str, str] = {}
    runs: list[str] = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("ENV "):
            env.update(dict(pair.split("=", 1) for pair in shlex.split(line[4:])))
        elif line.startswith("RUN "):
            runs.append(line[4:])
    return env, runs


def _run_step(command: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env_values, _runs = _dockerfile()
    # The image's environment: nothing of this process's (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE here).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CELERY_", "CPD_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(env_values)
    env["STATIC_ROOT"] = str(tmp_path / "static")
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    return subprocess.run(command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_every_dockerfile_python_step_runs_with_production_settings(tmp_path):
    """pip install (offline: every pin is what this environment installed), collectstatic and check --deploy."""
    _env, runs = _dockerfile()
    steps = [r for r in runs if "manage.py" in r or "pip install" in r]
    assert any("collectstatic" in s for s in steps) and any("check --deploy" in s for s in steps)
    for step in steps:
        if "pip install" in step:
            # No network in CI for this: the pins must be satisfied by what run.py installed.
            step = f"{sys.executable} -m pip install --dry-run --no-index -q -r requirements.txt"
        result = _run_step(step, tmp_path)
        assert result.returncode == 0, f"{step}\n{result.stdout}\n{result.stderr}"
    manifest = tmp_path / "static" / "staticfiles.json"
    assert manifest.exists()
    assert "vendor/chartjs/chart.umd.min.js" in manifest.read_text()


def test_deploy_check_refuses_the_development_secret_key(tmp_path):
    result = _run_step(
        "DJANGO_SECRET_KEY=dev-only-insecure-key-change-me-in-production python manage.py check --deploy", tmp_path
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr + result.stdout


def test_every_source_map_a_static_file_names_is_vendored():
    """ManifestStaticFilesStorage refuses a reference to a missing file: the build would stop."""
    for path in (ROOT / "static").rglob("*.js"):
        for name in re.findall(r"sourceMappingURL=(\S+)", path.read_text(errors="ignore")):
            assert (path.parent / name).exists(), f"{path} names a missing source map {name}"


def test_compose_file_runs_the_dockerfile_image_for_web_worker_and_beat():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("web", "worker", "beat"):
        assert services[name]["build"] == "."
        assert services[name]["environment"]["CPD_PRODUCTION"] == "1"
    assert "gunicorn" in services["web"]["command"]
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]


def test_docker_compose_config_validates_the_compose_file():
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no Docker client on this machine")
    if subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("the Docker client has no compose plugin (docker compose); nothing to validate with")
    env = {**os.environ, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}
    result = subprocess.run(
        [docker, "compose", "config", "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def _gunicorn_options(argv: list[str]) -> dict[str, str]:
    """gunicorn's options from its argv (after the app), `--name value` pairs."""
    start = argv.index("cpd.wsgi:application") + 1
    rest = argv[start:]
    return {rest[i]: rest[i + 1] for i in range(0, len(rest) - 1, 2)}


def test_the_image_and_compose_serve_with_threaded_workers_and_the_same_gunicorn_options():
    # A sync worker serves one request at a time: an approval waits behind uploads and PostgreSQL round
    # trips of other requests (docs/operations.md, "Web server"). Threads per worker let it start at once.
    cmd_line = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    image = _gunicorn_options(json.loads(cmd_line[4:]))
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web = compose["services"]["web"]["command"]
    compose_argv = shlex.split(web[web.index("gunicorn ") :].rstrip('"\n '))
    assert _gunicorn_options(compose_argv) == image
    assert image["--worker-class"] == "gthread"
    assert int(image["--threads"]) > 1 and int(image["--workers"]) >= 2
