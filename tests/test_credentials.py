"""C2PA content credentials: every clip the CLI writes is signed, says which model made it and from what,
and ``videobot verify`` tells a valid clip from an altered or unsigned one."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import c2pa
import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from PIL import Image

from db.credentials import (
    TRAINED_ALGORITHMIC_MEDIA,
    ClipFacts,
    CredentialsError,
    Ingredient,
    ensure_keys,
    read_credentials,
    sign_clip,
    signing_reserve,
)
from generator.encode import encode_mp4
from tests.mp4probe import make_clip, probe
from tests.test_cli import videobot
from tests.test_encode import noise_clip


@pytest.fixture(scope="session")
def keys_dir(c2pa_dir: Path) -> Path:
    """The installation's keys: the test session's folder (tests/conftest.py), for the CLI and for these."""
    return c2pa_dir


def store_of(path: Path, root: Path | None = None) -> tuple[dict[str, Any], str | None]:
    """The manifest store of ``path`` as c2pa reads it, and its validation state (against ``root``)."""
    settings: dict[str, Any] = {}
    if root is not None:
        settings["trust"] = {"trust_anchors": root.read_text()}
    context = c2pa.Context(c2pa.Settings.from_dict(settings))
    with path.open("rb") as f, c2pa.Reader("video/mp4", f, None, context) as reader:
        return json.loads(reader.json()), reader.get_validation_state()


def active(store: dict[str, Any]) -> dict[str, Any]:
    manifest: dict[str, Any] = store["manifests"][store["active_manifest"]]
    return manifest


def assertion(manifest: dict[str, Any], label: str) -> Any:
    return next(a["data"] for a in manifest["assertions"] if a["label"].removesuffix(".v2") == label)


@pytest.fixture(scope="module")
def picture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("picture") / "start.png"
    y, x = np.mgrid[:120, :200]
    Image.fromarray(np.stack([x, y, x + y], axis=-1).astype(np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def generated(
    tiny_ltx: Path, keys_dir: Path, picture: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A clip `videobot generate` made from a picture."""
    out = tmp_path_factory.mktemp("generated") / "fox.mp4"
    result = videobot(
        "generate", "the picture comes alive", "-o", str(out), "--model", str(tiny_ltx),
        "--image", str(picture), "--aspect", "16:9", "--seconds", "1", "--seed", "5", "--steps", "2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


def test_keys_are_made_once_private_and_fit_for_c2pa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIDEOBOT_C2PA_CERT", raising=False)
    monkeypatch.delenv("VIDEOBOT_C2PA_KEY", raising=False)
    monkeypatch.setenv("VIDEOBOT_C2PA_DIR", str(tmp_path / "c2pa"))
    keys = ensure_keys()
    assert keys.folder == tmp_path / "c2pa" and keys.alg == "es256"
    for name in ("root.key", "signer.key"):
        assert stat.S_IMODE((tmp_path / "c2pa" / name).stat().st_mode) == 0o600
    again = ensure_keys()
    assert (again.chain_pem, again.key_pem, again.root_pem) == (keys.chain_pem, keys.key_pem, keys.root_pem)

    signer, root = x509.load_pem_x509_certificates(keys.chain_pem)
    assert root.public_bytes(Encoding.PEM) == keys.root_pem
    assert signer.issuer == root.subject
    assert not signer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert signer.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    usages = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in usages
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_an_operators_own_chain_and_key_are_used_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = ensure_keys(tmp_path / "theirs")
    monkeypatch.setenv("VIDEOBOT_C2PA_CERT", str(tmp_path / "theirs" / "signer.pem"))
    monkeypatch.setenv("VIDEOBOT_C2PA_KEY", str(tmp_path / "theirs" / "signer.key"))
    keys = ensure_keys(tmp_path / "ours")
    assert keys.folder is None and keys.chain_pem == made.chain_pem and keys.root_pem == made.root_pem
    assert not (tmp_path / "ours").exists()
    monkeypatch.delenv("VIDEOBOT_C2PA_KEY")
    with pytest.raises(CredentialsError, match="set both"):
        ensure_keys(tmp_path / "ours")


def test_a_generated_clip_says_a_model_made_it_and_validates_against_the_root(
    generated: Path, keys_dir: Path, picture: Path
) -> None:
    store, state = store_of(generated, keys_dir / "root.pem")
    assert state == "Trusted"  # the signature, the hashes, and the chain up to this installation's root
    manifest = active(store)
    created = assertion(manifest, "c2pa.actions")["actions"][0]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    assert created["softwareAgent"]["name"] == "videobot"
    model = assertion(manifest, "org.videobot.model")
    assert model["pipeline"] == "LTXPipeline" and model["software"].startswith("videobot/")
    # the starting picture, as an input to the model
    (ingredient,) = manifest["ingredients"]
    assert (ingredient["title"], ingredient["relationship"]) == (picture.name, "inputTo")
    # without the root the signature is still intact, from a signer no one else knows
    _, state = store_of(generated)
    assert state == "Valid"


def test_verify_answers_valid_with_the_model_exit_0(generated: Path, keys_dir: Path) -> None:
    result = videobot("verify", str(generated))
    assert result.returncode == 0, result.stderr
    assert "valid, signed by this installation" in result.stdout
    assert "AI-generated by" in result.stdout and "start.png" in result.stdout


def test_an_extend_carries_its_parents_manifest(
    tiny_ltx: Path, generated: Path, keys_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "longer.mp4"
    result = videobot(
        "extend", str(generated), "and on", "-o", str(out),
        "--model", str(tiny_ltx), "--seconds", "1", "--seed", "7", "--steps", "2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    store, state = store_of(out, keys_dir / "root.pem")
    assert state == "Trusted"
    parent_store, _ = store_of(generated)
    (ingredient,) = active(store)["ingredients"]
    assert (ingredient["title"], ingredient["relationship"]) == ("fox.mp4", "componentOf")
    # the parent's own manifest travels inside: the same claim, with its own picture ingredient
    assert ingredient["active_manifest"] == parent_store["active_manifest"]
    assert store["manifests"][ingredient["active_manifest"]]["ingredients"][0]["title"] == "start.png"
    actions = [a["action"] for a in assertion(active(store), "c2pa.actions")["actions"]]
    assert actions == ["c2pa.created", "c2pa.placed"]

    verdict = read_credentials(out, (keys_dir / "root.pem").read_bytes())
    assert verdict.status == "valid" and verdict.this_installation and verdict.ai_generated
    (parent,) = verdict.ingredients
    assert parent.signed and parent.model is not None and parent.ingredients[0].title == "start.png"


def test_a_bridge_lists_both_clips(tiny_ltx: Path, generated: Path, keys_dir: Path, tmp_path: Path) -> None:
    second = make_clip(tmp_path / "owl.mp4", size=(128, 64), seconds=1.0, tone=None)
    out = tmp_path / "joined.mp4"
    result = videobot(
        "bridge", str(generated), str(second), "fox to owl", "-o", str(out),
        "--model", str(tiny_ltx), "--seconds", "1", "--seed", "7", "--steps", "2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    store, state = store_of(out, keys_dir / "root.pem")
    assert state == "Trusted"
    first, other = active(store)["ingredients"]
    assert (first["title"], other["title"]) == ("fox.mp4", "owl.mp4")
    assert "active_manifest" in first and "active_manifest" not in other  # the owl clip had none


def test_one_byte_changed_in_the_video_is_reported_altered_exit_1(generated: Path, tmp_path: Path) -> None:
    data = bytearray(generated.read_bytes())
    at = data.index(b"mdat") + 500
    data[at] ^= 0x01
    changed = tmp_path / "changed.mp4"
    changed.write_bytes(bytes(data))
    result = videobot("verify", str(changed))
    assert result.returncode == 1
    assert "ALTERED" in result.stdout
    assert read_credentials(changed).status == "altered"


def test_an_unsigned_clip_has_no_credentials_exit_1_and_junk_is_unreadable_exit_2(tmp_path: Path) -> None:
    plain = make_clip(tmp_path / "plain.mp4", seconds=0.5, tone=None)
    result = videobot("verify", str(plain))
    assert result.returncode == 1 and "no content credentials" in result.stdout
    junk = tmp_path / "junk.mp4"
    junk.write_text("not a video at all")
    result = videobot("verify", str(junk))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    missing = videobot("verify", str(tmp_path / "missing.mp4"))
    assert missing.returncode == 2


def test_a_clip_encoded_under_the_limit_by_the_reserve_fits_once_signed(
    tmp_path: Path, keys_dir: Path
) -> None:
    keys = ensure_keys()
    parent = make_clip(tmp_path / "parent.mp4", seconds=0.5, tone=None)
    sign_clip(parent, parent, ClipFacts("m", "M", "LTXPipeline", "org/m"), keys)
    limit = 60_000
    ingredients = [parent]
    budget = limit - signing_reserve(ingredients, keys)
    facts = ClipFacts("m", "M", "LTXPipeline", "org/m", ingredients=(Ingredient(parent),))
    clip = encode_mp4(noise_clip(48, 64, 96), 24, tmp_path / "clip.mp4", budget)
    # just under the limit by the reserve: the encoder's clip padded (a free box) to the budget exactly
    pad_to(clip.path, budget)
    signed = sign_clip(clip.path, clip.path, facts, keys, max_bytes=limit)
    assert probe(clip.path).size == budget + signed.bytes_added <= limit
    assert read_credentials(clip.path).status == "untrusted"  # intact; no root given

    # a clip that leaves less room than the manifest takes is refused, and left as it was
    full = encode_mp4(noise_clip(48, 64, 96), 24, tmp_path / "full.mp4", budget)
    pad_to(full.path, limit - 1000)
    before = full.path.read_bytes()
    with pytest.raises(CredentialsError, match="over the limit"):
        sign_clip(full.path, full.path, facts, keys, max_bytes=limit)
    assert full.path.read_bytes() == before


def pad_to(path: Path, size: int) -> None:
    """``path`` grown to ``size`` bytes by a top-level ``free`` box at its end (players skip it)."""
    short = size - path.stat().st_size
    assert short >= 8, short
    with path.open("ab") as f:
        f.write(short.to_bytes(4, "big") + b"free" + bytes(short - 8))


def test_the_bench_runs_small() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "bench.credentials", "--small", "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "| from text |" in result.stdout and "| extend of a signed clip |" in result.stdout
