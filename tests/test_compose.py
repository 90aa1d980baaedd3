"""compose.yaml, the Dockerfile and .env.example, read as Docker Compose would read them (there is no
Docker here: ``docker compose config`` cannot run, so the structure that matters is checked instead):
the services an operator scales, what each runs (parsed by videobot's own argument parser), the GPU
reservation, the volumes, and every setting the README documents offered in .env.example."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from videobot.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


def env_file_names(service: dict[str, Any]) -> list[str]:
    files = service.get("env_file", [])
    files = [files] if isinstance(files, str | dict) else files
    return [f if isinstance(f, str) else f["path"] for f in files]


def interpolated(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, and $$ for a literal $."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        if op == ":?" and not env.get(name):
            raise KeyError(f"{name}: {arg}")
        return env.get(name) or (arg if op == ":-" else "")

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value.replace("$$", "\x00")).replace("\x00", "$")


def test_postgres_uses_the_official_image_keeps_its_data_in_a_volume_and_says_when_it_is_healthy(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    pg = services["postgres"]
    assert re.fullmatch(r"postgres:\d+(\.\d+)?", pg["image"]), pg["image"]  # Docker's official image
    mounts = {v.split(":")[1]: v.split(":")[0] for v in pg["volumes"]}
    assert mounts["/var/lib/postgresql/data"] in compose["volumes"]  # a named volume: data outlives it
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):  # no database without a password
        interpolated(pg["environment"]["POSTGRES_PASSWORD"], {})


def test_bot_and_worker_run_videobots_own_commands_from_the_repositorys_image(
    services: dict[str, dict[str, Any]],
) -> None:
    parser = build_parser()
    for name, command in (("bot", "bot"), ("worker", "worker")):
        service = services[name]
        assert service["build"]["context"] == "." and (ROOT / service["build"]["dockerfile"]).is_file()
        args = parser.parse_args(service["command"])  # the flags exist, or argparse exits 2
        assert args.command == command
        assert args.metrics_host == "0.0.0.0"  # reachable from outside the container
        assert str(args.metrics_port) in " ".join(service["healthcheck"]["test"])  # probes /healthz
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert ".env" in env_file_names(service)
    assert services["bot"]["image"] == services["worker"]["image"]  # one image, built once


def test_both_halves_reach_the_compose_postgres_with_its_credentials(
    services: dict[str, dict[str, Any]],
) -> None:
    env = {"POSTGRES_PASSWORD": "s3cret", "POSTGRES_USER": "vb", "POSTGRES_DB": "clips"}
    pg_env = {k: interpolated(v, env) for k, v in services["postgres"]["environment"].items()}
    expected = f"postgresql://{pg_env['POSTGRES_USER']}:s3cret@postgres:5432/{pg_env['POSTGRES_DB']}"
    for name in ("bot", "worker"):
        url = interpolated(services[name]["environment"]["VIDEOBOT_DATABASE_URL"], env)
        assert url == expected, (name, url)
    defaults = {"POSTGRES_PASSWORD": "pw"}
    assert interpolated(services["bot"]["environment"]["VIDEOBOT_DATABASE_URL"], defaults) == (
        f"postgresql://{interpolated(services['postgres']['environment']['POSTGRES_USER'], defaults)}:pw"
        f"@postgres:5432/{interpolated(services['postgres']['environment']['POSTGRES_DB'], defaults)}"
    )


def test_workers_scale_with_one_gpu_each_and_share_the_hugging_face_cache(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    worker = services["worker"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    # --scale worker=N: N containers of one service, so nothing in it may be unique to one container
    assert "container_name" not in worker and "ports" not in worker and "hostname" not in worker
    hf_home = worker["environment"]["HF_HOME"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in worker["volumes"]}
    assert mounts[hf_home] == "hf-cache" and "hf-cache" in compose["volumes"]
    assert worker["environment"]["DISCORD_TOKEN"] == ""  # workers never hold the bot's token
    assert "DISCORD_TOKEN" not in services["bot"].get("environment", {})  # the bot's comes from .env
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"HF_HOME={hf_home}" in dockerfile  # the image downloads where the volume is


def test_the_image_contains_every_package_videobot_installs() -> None:
    """A package left out of the Dockerfile's COPY lines would build an image that cannot start."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    include = re.search(r"\[tool\.setuptools\.packages\.find\]\s*include\s*=\s*\[([^\]]*)\]", pyproject)
    assert include is not None
    packages = [p.strip().strip('"').rstrip("*") for p in include.group(1).split(",") if p.strip()]
    copied = set(re.findall(r"^COPY\s+(\S+)\s+\./\S*$", (ROOT / "Dockerfile").read_text(), re.M))
    assert packages and all(p in copied for p in packages), (packages, copied)
    assert {"pyproject.toml", "README.md"} <= set(
        re.findall(r"^COPY\s+(.+?)\s+\./$", (ROOT / "Dockerfile").read_text(), re.M)[0].split()
    )


def test_env_example_offers_every_setting_the_readme_documents_and_the_ones_compose_needs(
    services: dict[str, dict[str, Any]],
) -> None:
    readme = (ROOT / "README.md").read_text()
    table = [line for line in readme.splitlines() if line.startswith("| `")]
    documented = set(re.findall(r"`(VIDEOBOT_\w+|DISCORD_TOKEN)", "\n".join(table)))
    assert {"DISCORD_TOKEN", "VIDEOBOT_DATABASE_URL", "VIDEOBOT_PRESETS"} <= documented
    example = (ROOT / ".env.example").read_text()
    offered = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, re.M))
    assert documented - offered == set(), "settings the README lists but .env.example does not"
    needed = {
        name
        for service in services.values()
        for value in (service.get("environment") or {}).values()
        for name in re.findall(r"\$\{(\w+):\?", str(value))
    }
    active = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, re.M))  # not commented out
    assert needed <= active and "DISCORD_TOKEN" in active, (needed, active)
    for line in example.splitlines():  # what the shell's `set -a; . ./.env` reads too
        assert not line or line.startswith("#") or re.fullmatch(r"[A-Z][A-Z0-9_]*=\S*", line), line


def test_readme_shows_compose_scale_out_and_how_to_add_a_gpu_host() -> None:
    readme = (ROOT / "README.md").read_text()
    compose_part = readme.split("### Scale-out with Docker Compose", 1)[1].split("\n## ", 1)[0]
    assert "--scale worker=" in compose_part and "cp .env.example .env" in compose_part
    host_part = readme.split("### Adding a GPU host", 1)[1].split("\n## ", 1)[0]
    assert "pip install" in host_part and "VIDEOBOT_DATABASE_URL=postgresql://" in host_part
    assert "videobot worker" in host_part
