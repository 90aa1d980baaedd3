"""Shared fixtures: tiny real pipelines built once per test session."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.presets import PresetCatalog


def _session_folder(factory: pytest.TempPathFactory, name: str, variable: str) -> Iterator[Path]:
    """A folder of the test session's named by ``variable`` in the environment (this process's and the
    ones tests start), as an operator moves it; the variable as it was afterwards."""
    folder = factory.mktemp(name)
    before = os.environ.get(variable)
    os.environ[variable] = str(folder)
    yield folder
    if before is None:
        os.environ.pop(variable, None)
    else:
        os.environ[variable] = before


@pytest.fixture(scope="session", autouse=True)
def spool_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Workers keep finished renders in a folder of the test session's, not in the user's cache."""
    yield from _session_folder(tmp_path_factory, "rendered", "VIDEOBOT_SPOOL_DIR")


@pytest.fixture(scope="session", autouse=True)
def c2pa_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The command line signs what it writes (db/credentials.py) with keys of the test session's, not
    the installation's certificate authority in the user's config."""
    yield from _session_folder(tmp_path_factory, "c2pa", "VIDEOBOT_C2PA_DIR")


@pytest.fixture(scope="session")
def tiny_ltx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tiny_models import build_tiny_ltx

    return build_tiny_ltx(tmp_path_factory.mktemp("models") / "tiny-ltx")


@pytest.fixture(scope="session")
def tiny_wan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tiny_models import build_tiny_wan

    return build_tiny_wan(tmp_path_factory.mktemp("models") / "tiny-wan")


@pytest.fixture(scope="session")
def tiny_ltx2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tiny_models import build_tiny_ltx2

    return build_tiny_ltx2(tmp_path_factory.mktemp("models") / "tiny-ltx2")


@pytest.fixture(scope="session")
def tiny_ltx2_hd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tiny_models import build_tiny_ltx2_hd

    return build_tiny_ltx2_hd(tmp_path_factory.mktemp("models") / "tiny-ltx2-hd")


@pytest.fixture(scope="session")
def tiny_ltx25(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tiny_models import build_tiny_ltx25

    return build_tiny_ltx25(tmp_path_factory.mktemp("models") / "tiny-ltx25")


@pytest.fixture(scope="session")
def tiny_wan22(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tiny_models import build_tiny_wan22

    return build_tiny_wan22(tmp_path_factory.mktemp("models") / "tiny-wan22")


@pytest.fixture(scope="session")
def presets_file(
    tiny_ltx: Path,
    tiny_wan: Path,
    tiny_ltx2: Path,
    tiny_wan22: Path,
    tiny_ltx2_hd: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """A presets file, as an operator writes one, naming the tiny pipelines: `tiny-ltx` (the default),
    `tiny-wan`, `tiny-slow` (100,000 steps: a render that lasts until it is cancelled), `tiny-ltx2`
    (LTX-2: picture, continuation and sound), `tiny-wan22` (Wan 2.2 TI2V: picture and continuation) and
    `tiny-hd` (LTX-2 in two stages: drafts, and HD versions by its latent upsampler)."""

    from tests.tiny_models import preset_entry as preset

    presets = {
        "default": "tiny-ltx",
        "tiny-ltx": preset("ltx-video", tiny_ltx),
        "tiny-wan": preset("wan-1.3b", tiny_wan),
        "tiny-slow": preset(
            "ltx-video", tiny_ltx, title="Tiny slow", max_steps=100_000, default_steps=100_000
        ),
        "tiny-ltx2": preset("ltx-2", tiny_ltx2),
        "tiny-wan22": preset("wan-2.2-5b", tiny_wan22),
        "tiny-hd": preset("ltx-2", tiny_ltx2_hd),
    }
    path = tmp_path_factory.mktemp("config") / "presets.json"
    path.write_text(json.dumps(presets, indent=2))
    return path


@pytest.fixture(scope="session")
def catalog(presets_file: Path) -> PresetCatalog:
    return PresetCatalog.load(presets_file)
