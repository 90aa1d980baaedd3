"""The installation's signing certificates and signed clips in the store (migration V21), on both
backends: two bot hosts with keys of their own are both recognised as the installation; a stranger whose
certificate comes from the same certificate authority as ours (an operator's chain from a public CA) is
not; a bot that starts again records nothing twice; and a signed clip replaces its unsigned file with its
manifest's size kept, unless it was deleted."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from db.credentials import (
    ClipFacts,
    Keys,
    ensure_keys,
    manifest_store_bytes,
    read_credentials,
    sign_clip,
)
from db.store import JobResult, Store
from generator.encode import encode_mp4
from tests.store.helpers import spec

FACTS = ClipFacts(model="tiny-ltx", model_title="Tiny LTX", pipeline="LTXPipeline", source="tiny")


def clip(folder: Path) -> Path:
    frames = np.linspace(0, 255, 6 * 32 * 48 * 3).astype(np.uint8).reshape(6, 32, 48, 3)
    encode_mp4(frames, 12, folder / "clip.mp4")
    return folder / "clip.mp4"


def customer_of(ca: Keys, folder: Path) -> Keys:
    """Keys of someone else with a signing certificate from the certificate authority of ``ca``'s folder:
    the same root, another signer (as two customers of one public CA)."""
    assert ca.folder is not None
    root_key = serialization.load_pem_private_key((ca.folder / "root.key").read_bytes(), password=None)
    root = x509.load_pem_x509_certificate(ca.root_pem)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    usage = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "another customer")]))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(root_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    chain = cert.public_bytes(serialization.Encoding.PEM) + ca.root_pem
    return Keys(chain_pem=chain, key_pem=key_pem, root_pem=ca.root_pem, folder=folder)


async def test_every_bot_hosts_signer_is_the_installations_and_no_one_else_is(
    store: Store, tmp_path: Path
) -> None:
    source = clip(tmp_path)
    ours = [ensure_keys(tmp_path / name) for name in ("host-a", "host-b")]
    others = [ensure_keys(tmp_path / "stranger"), customer_of(ours[0], tmp_path / "customer")]
    signed = []
    for n, keys in enumerate([*ours, *others]):
        out = tmp_path / f"signed-{n}.mp4"
        sign_clip(source, out, FACTS, keys)
        signed.append(out)
    for keys in ours:  # two bot hosts start, one of them twice
        await store.credentials.record_signer(keys.root_pem, keys.chain_pem)
    await store.credentials.record_signer(ours[0].root_pem, ours[0].chain_pem)
    trust = await store.credentials.trust()
    assert trust.roots.count(b"BEGIN CERTIFICATE") == 2 and len(trust.signers) == 2
    verdicts = [read_credentials(path, trust.roots, trust.signers) for path in signed]
    # the customer of our CA chains to a root we trust, but did not sign as us
    assert [v.status for v in verdicts] == ["valid", "valid", "untrusted", "untrusted"]
    assert [v.this_installation for v in verdicts] == [True, True, False, False]


async def test_a_signed_clip_replaces_its_file_unless_it_was_deleted(store: Store, tmp_path: Path) -> None:
    source = clip(tmp_path)
    out = tmp_path / "signed.mp4"
    sign_clip(source, out, FACTS, ensure_keys(tmp_path / "keys"))
    unsigned, signed = source.read_bytes(), out.read_bytes()
    jobs = []
    for user in (1, 2):
        job = await store.jobs.enqueue(10, 20, user, spec(), 1.0)
        assert await store.jobs.claim_next("w1", [job.model]) is not None
        ref = await store.jobs.put_media(job.id, unsigned, b"poster")
        assert await store.jobs.finish(job.id, "w1", JobResult(ref, len(unsigned), 48, 32, 6, 12.0, 1.0))
        jobs.append(job)
    kept, gone = jobs
    assert await store.jobs.put_signed(kept.id, signed, b"poster", manifest_store_bytes(out))
    media, row = await store.jobs.get_media(kept.id), await store.jobs.get(kept.id)
    assert media is not None and media.video == signed and media.poster == b"poster"
    assert row is not None and row.video_bytes == len(signed)
    assert row.manifest_bytes == manifest_store_bytes(out) > 0
    assert await store.jobs.delete_clip(gone.id)
    assert not await store.jobs.put_signed(gone.id, signed, b"poster", 1)
    assert await store.jobs.get_media(gone.id) is None  # not brought back by the signing
