"""C2PA content credentials: every clip says, verifiably, that a model made it, which one, and from what.

Signing and reading with ``c2pa-python`` (the bindings of c2pa-rs); keys made with ``cryptography``.
Shared by the CLI (which signs what ``videobot generate``/``extend``/``bridge``/``hd`` write and answers
``videobot verify``) and, later, the bot: it imports neither torch nor discord.

Keys. On first use :func:`ensure_keys` makes the installation's own certificate authority (a root, P-256)
and an end-entity signing certificate under it (ES256; digitalSignature key usage, the
emailProtection extended key usage that c2pa-rs accepts for signers, no CA), in ``VIDEOBOT_C2PA_DIR``
(default ``~/.config/videobot/c2pa``), private keys mode 0600; later calls reuse them. Such signatures
are valid, from a signer no one else trusts; a reader that is given this installation's root (the
:func:`read_credentials` ``trust_root_pem``) reports them as this installation's. An operator with a
certificate from a CA on the C2PA trust list points ``VIDEOBOT_C2PA_CERT`` (the PEM chain, signer first)
and ``VIDEOBOT_C2PA_KEY`` (its private key, PEM) at it instead.

The manifest: a ``c2pa.actions`` assertion (``c2pa.created`` with the IPTC digital source type
``trainedAlgorithmicMedia``, the software agent ``videobot/<version>`` and the time; ``c2pa.placed`` for
each clip the new one contains), ``org.videobot.model`` (preset, title, pipeline, source, style, server),
``stds.schema-org.CreativeWork`` (the authors, as the caller decided to credit them), and the
ingredients, each added from its file so that a parent clip's own manifest travels inside this one.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import io
import json
import os
import struct
import tempfile
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

C2PA_DIR_ENV = "VIDEOBOT_C2PA_DIR"
C2PA_CERT_ENV = "VIDEOBOT_C2PA_CERT"
C2PA_KEY_ENV = "VIDEOBOT_C2PA_KEY"

ROOT_KEY_FILE = "root.key"
ROOT_CERT_FILE = "root.pem"
SIGNER_KEY_FILE = "signer.key"
SIGNER_CERT_FILE = "signer.pem"  # the chain: signer, then root
ROOT_YEARS = 20
SIGNER_YEARS = 5

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
MODEL_LABEL = "org.videobot.model"
CREATIVE_WORK_LABEL = "stds.schema-org.CreativeWork"
Relationship = Literal["parentOf", "componentOf", "inputTo"]
RELATIONSHIPS: tuple[Relationship, ...] = ("parentOf", "componentOf", "inputTo")

# what a manifest adds to a clip beyond its certificate chain and its ingredients' own manifests, with
# room to spare (bench/credentials.py): a clip with no ingredients measured 3,983 bytes, of which the
# chain (signer and root, DER) is about 900; an unsigned ingredient adds about 1.1 KB (its assertion and
# the hashed links to it), a signed one 2.7 KB (its validation results too) plus its own manifest store,
# thumbnails off. So 4 KiB + the chain, and 4 KiB + the store per ingredient.
MANIFEST_RESERVE = 4 * 1024
RESERVE_PER_INGREDIENT = 4 * 1024
# what a worker leaves free under a clip's upload limit for the certificate chain of the manifest the bot
# adds when it posts the clip: the keys are on the bot's hosts only, so the chain is allowed for, not
# measured. Ours is about 900 bytes; an operator's chain from a CA of the C2PA trust list (a signer and
# one or two intermediates, RSA or EC) a few KB. A bot whose chain is longer says so when it starts.
CHAIN_ALLOWANCE = 8 * 1024
# the ISO BMFF box in which C2PA keeps a manifest store in an mp4: uuid d8fec3d6-1b0e-483c-9297-5828877ec481
C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")

MIME_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}


class CredentialsError(Exception):
    """Signing failed, or the keys cannot be made or read: one line that says why."""


class UnreadableFile(CredentialsError):
    """The file to check cannot be read: missing, or not a media file c2pa knows."""


# ---------------------------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class Keys:
    """What signs: the certificate chain (PEM, signer first), its private key (PEM), and the root the chain
    ends in (PEM), which a reader trusts to recognise this installation's clips."""

    chain_pem: bytes
    key_pem: bytes
    root_pem: bytes
    folder: Path | None  # None: the operator's own chain from VIDEOBOT_C2PA_CERT/KEY
    alg: str = "es256"


def default_folder() -> Path:
    """``$VIDEOBOT_C2PA_DIR``, else ``~/.config/videobot/c2pa``."""
    named = os.environ.get(C2PA_DIR_ENV)
    if named:
        return Path(named).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "videobot" / "c2pa"


def _pem_certs(data: bytes) -> list[bytes]:
    """The PEM certificates in ``data``, in order."""
    end = b"-----END CERTIFICATE-----"
    parts = []
    for block in data.split(end)[:-1]:
        start = block.find(b"-----BEGIN CERTIFICATE-----")
        if start >= 0:
            parts.append(block[start:] + end + b"\n")
    return parts


def cert_fingerprint(pem: bytes) -> str:
    """The SHA-256 of the first certificate in ``pem`` (its DER bytes), hex. Raises CredentialsError for
    no certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    certs = _pem_certs(pem)
    if not certs:
        raise CredentialsError("no PEM certificate")
    return x509.load_pem_x509_certificate(certs[0]).fingerprint(hashes.SHA256()).hex()


def cert_serial(pem: bytes) -> str:
    """The serial number (decimal, as C2PA readers report a manifest's signer) of the first certificate in
    ``pem``. Raises CredentialsError for no certificate."""
    from cryptography import x509

    certs = _pem_certs(pem)
    if not certs:
        raise CredentialsError("no PEM certificate")
    return str(x509.load_pem_x509_certificate(certs[0]).serial_number)


def _alg_for(key_pem: bytes) -> str:
    """The C2PA signing algorithm for the private key in ``key_pem``."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CredentialsError(f"the signing key is no unencrypted PEM private key: {exc}") from exc
    if isinstance(key, ec.EllipticCurvePrivateKey):
        by_curve = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name not in by_curve:
            raise CredentialsError(f"C2PA signs with P-256, P-384 or P-521 keys, not {key.curve.name}")
        return by_curve[key.curve.name]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    raise CredentialsError("C2PA signs with EC (P-256/384/521), Ed25519 or RSA keys")


def _write_private(path: Path, data: bytes) -> None:
    """``data`` into a new file readable by its owner only (0600 from the start, not chmod-ed after)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Two processes starting at once make one set of keys, not two halves of two."""
    with open(folder / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _make_keys(folder: Path, name: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    start = now - datetime.timedelta(hours=1)  # a little slack for clocks behind ours

    def usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=sign,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=ca,
            crl_sign=ca,
            encipher_only=False,
            decipher_only=False,
        )

    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{name} root"),
        ]
    )
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + datetime.timedelta(days=365 * ROOT_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                    x509.NameAttribute(NameOID.COMMON_NAME, f"{name} signer"),
                ]
            )
        )
        .issuer_name(root_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + datetime.timedelta(days=365 * SIGNER_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(sign=True, ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )

    def private(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    root_pem = root.public_bytes(serialization.Encoding.PEM)
    # the keys first, the certificates last: a folder with both certificates is a finished one
    _write_private(folder / ROOT_KEY_FILE, private(root_key))
    _write_private(folder / SIGNER_KEY_FILE, private(signer_key))
    (folder / ROOT_CERT_FILE).write_bytes(root_pem)
    (folder / SIGNER_CERT_FILE).write_bytes(signer.public_bytes(serialization.Encoding.PEM) + root_pem)


def _operator_keys() -> Keys | None:
    cert, key = os.environ.get(C2PA_CERT_ENV), os.environ.get(C2PA_KEY_ENV)
    if not cert and not key:
        return None
    if not cert or not key:
        raise CredentialsError(f"set both {C2PA_CERT_ENV} and {C2PA_KEY_ENV}, or neither")
    try:
        chain, key_pem = Path(cert).read_bytes(), Path(key).read_bytes()
    except OSError as exc:
        raise CredentialsError(f"cannot read the signing certificate or key: {exc}") from exc
    certs = _pem_certs(chain)
    if not certs:
        raise CredentialsError(f"{cert} holds no PEM certificate")
    return Keys(chain_pem=chain, key_pem=key_pem, root_pem=certs[-1], folder=None, alg=_alg_for(key_pem))


def ensure_keys(folder: Path | None = None, *, name: str = "videobot") -> Keys:
    """The installation's signing keys: the operator's (``VIDEOBOT_C2PA_CERT``/``KEY``) when set, else
    those in ``folder`` (default :func:`default_folder`), made there on first use."""
    operator = _operator_keys()
    if operator is not None:
        return operator
    folder = folder or default_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _locked(folder):
            if not ((folder / SIGNER_CERT_FILE).is_file() and (folder / ROOT_CERT_FILE).is_file()):
                _make_keys(folder, name)
            chain = (folder / SIGNER_CERT_FILE).read_bytes()
            key = (folder / SIGNER_KEY_FILE).read_bytes()
            root = (folder / ROOT_CERT_FILE).read_bytes()
    except OSError as exc:
        raise CredentialsError(f"cannot make or read the signing keys in {folder}: {exc}") from exc
    return Keys(chain_pem=chain, key_pem=key, root_pem=root, folder=folder, alg=_alg_for(key))


def installation_signer(folder: Path | None = None) -> str | None:
    """The serial number of the certificate this installation signs with (:func:`cert_serial`), without
    making keys: the first of the operator's chain, else the one in ``folder``; None when there is none."""
    cert = os.environ.get(C2PA_CERT_ENV)
    path = Path(cert) if cert else (folder or default_folder()) / SIGNER_CERT_FILE
    try:
        return cert_serial(path.read_bytes())
    except (OSError, CredentialsError, ValueError):
        return None


def installation_root(folder: Path | None = None) -> bytes | None:
    """The root certificate (PEM) this installation's clips chain to, without making keys: the last
    certificate of the operator's chain, else the root in ``folder``; None when there are no keys yet."""
    cert = os.environ.get(C2PA_CERT_ENV)
    if cert:
        with contextlib.suppress(OSError):
            certs = _pem_certs(Path(cert).read_bytes())
            return certs[-1] if certs else None
        return None
    path = (folder or default_folder()) / ROOT_CERT_FILE
    try:
        return path.read_bytes()
    except OSError:
        return None


# ------------------------------------------------------------------------------------------- signing


def software_version() -> str:
    """This project's version (its installed distribution's), else "dev"."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("videobot")
    except PackageNotFoundError:
        return "dev"


@dataclass(frozen=True)
class Ingredient:
    """A file the clip was made from: a parent clip (mp4) or a picture (PNG, JPEG, WebP)."""

    path: Path
    relationship: Relationship = "componentOf"
    title: str | None = None  # default: the file's name


@dataclass(frozen=True)
class ClipFacts:
    """What a clip's manifest states. ``authors`` are display names the caller already decided to show
    (a member who agreed to be named, else "a member of <server>"): this module names whoever it is given."""

    model: str  # the preset's name
    model_title: str
    pipeline: str  # the diffusers pipeline class
    source: str  # the hub id or folder the weights came from
    style: str | None = None
    server: str | None = None  # the Discord server's name
    server_id: int | None = None  # and its id: /verify tells "this server's bot" from another's
    authors: tuple[str, ...] = ()
    ingredients: tuple[Ingredient, ...] = ()
    title: str | None = None  # default: the signed file's name
    created: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))
    software: str = field(default_factory=lambda: f"videobot/{software_version()}")


@dataclass(frozen=True)
class SignResult:
    bytes_added: int
    seconds: float


def mime_type(path: Path) -> str:
    try:
        return MIME_TYPES[path.suffix.lower()]
    except KeyError:
        raise CredentialsError(
            f"{path.name}: content credentials go into mp4, mov, PNG, JPEG or WebP files"
        ) from None


def manifest_store_bytes(path: Path) -> int:
    """The bytes of the C2PA manifest store an mp4 (or mov) carries in its top-level uuid box, 0 for none:
    what it adds to a clip made from it, where its manifest travels as an ingredient's."""
    try:
        with path.open("rb") as f:
            return _store_bytes(f, os.fstat(f.fileno()).st_size)
    except OSError:
        return 0


def manifest_store_size(video: bytes) -> int:
    """:func:`manifest_store_bytes` of an mp4's bytes."""
    return _store_bytes(io.BytesIO(video), len(video))


def _store_bytes(f: BinaryIO, end: int) -> int:
    total = 0
    at = 0
    try:
        while at + 8 <= end:
            f.seek(at)
            size, kind = struct.unpack(">I4s", f.read(8))
            head = 8
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0]
                head = 16
            elif size == 0:
                size = end - at
            if size < head:
                break
            if kind == b"uuid" and f.read(16) == C2PA_UUID:
                total += size
            at += size
    except (OSError, struct.error):
        return 0
    return total


def signing_reserve(ingredients: Sequence[Path], keys: Keys) -> int:
    """The bytes to keep free under a size cap for the manifest of a clip made from ``ingredients`` and
    signed with ``keys``: our own claim and signature, the certificate chain, and each clip ingredient's
    manifest store, which travels inside ours."""
    return (
        MANIFEST_RESERVE
        + chain_bytes(keys)
        + sum(RESERVE_PER_INGREDIENT + manifest_store_bytes(Path(p)) for p in ingredients)
    )


def chain_bytes(keys: Keys) -> int:
    """The certificate chain's size in a manifest (DER)."""
    return sum(len(cert) * 3 // 4 for cert in _pem_certs(keys.chain_pem))  # base64 → DER


def post_reserve(parent_manifests: Sequence[int] = (), pictures: int = 0) -> int:
    """The bytes a worker keeps free under a clip's limit for the manifest its bot signs in at post time
    (:func:`clip_ingredients`): the claim, a chain of up to :data:`CHAIN_ALLOWANCE`, each parent clip
    that is an ingredient with its own manifest store (``parent_manifests``: their sizes, ``Job.
    manifest_bytes``), and each picture."""
    return (
        MANIFEST_RESERVE
        + CHAIN_ALLOWANCE
        + sum(RESERVE_PER_INGREDIENT + size for size in parent_manifests)
        + RESERVE_PER_INGREDIENT * pictures
    )


def clip_ingredients(
    kind: str, parent_id: int | None, bridges_to: int | None = None
) -> list[tuple[int, Relationship]]:
    """The stored clips a posted clip of ``kind`` names as its ingredients, with how it used them: an
    extend and a bridge contain their clips (``componentOf``: their frames placed in it), an HD version
    is its draft opened and edited (``parentOf``), a remix and a loop are made from theirs (``inputTo``:
    its prompt and seed, its first frame). A new clip and a reroll (the same prompt again) have none."""
    if parent_id is None:
        return []
    if kind == "bridge":
        ends: list[tuple[int, Relationship]] = [(parent_id, "componentOf")]
        return ends + ([(bridges_to, "componentOf")] if bridges_to else [])
    by_kind: dict[str, Relationship] = {
        "extend": "componentOf",
        "hd": "parentOf",
        "remix": "inputTo",
        "loop": "inputTo",
    }
    return [(parent_id, by_kind[kind])] if kind in by_kind else []


def _settings(trust_root_pem: bytes | None = None) -> Any:
    import c2pa

    config: dict[str, Any] = {
        # a picture ingredient's thumbnail would add tens of KB to every clip made from it
        "builder": {"thumbnail": {"enabled": False}},
    }
    if trust_root_pem:
        config["trust"] = {"trust_anchors": trust_root_pem.decode("ascii")}
    return c2pa.Context(c2pa.Settings.from_dict(config))


def manifest_definition(facts: ClipFacts, title: str) -> dict[str, Any]:
    """The manifest ``sign_clip`` writes for ``facts`` (ingredients by label ``ingredient-N``)."""
    name, _, version = facts.software.partition("/")
    agent = {"name": name, "version": version or "dev"}
    when = facts.created.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    labels = [f"ingredient-{i}" for i in range(len(facts.ingredients))]
    inputs = [
        label for label, ing in zip(labels, facts.ingredients, strict=True) if ing.relationship == "inputTo"
    ]
    parents = [
        label for label, ing in zip(labels, facts.ingredients, strict=True) if ing.relationship == "parentOf"
    ]
    placed = [
        label
        for label, ing in zip(labels, facts.ingredients, strict=True)
        if ing.relationship == "componentOf"
    ]
    made: dict[str, Any] = {
        "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
        "softwareAgent": agent,
        "when": when,
    }
    if inputs:
        made["parameters"] = {"ingredientIds": inputs}
    actions: list[dict[str, Any]] = []
    if parents:
        # C2PA: a manifest with a parentOf ingredient opens it first; the model's work is an edit
        actions.append({"action": "c2pa.opened", "when": when, "parameters": {"ingredientIds": parents}})
        actions.append({"action": "c2pa.edited", **made})
    else:
        actions.append({"action": "c2pa.created", **made})
    actions.extend(
        {
            "action": "c2pa.placed",
            "when": when,
            "softwareAgent": agent,
            "parameters": {"ingredientIds": [lab]},
        }
        for lab in placed
    )
    model: dict[str, Any] = {
        "preset": facts.model,
        "title": facts.model_title,
        "pipeline": facts.pipeline,
        "source": facts.source,
        "created": when,
        "software": facts.software,
    }
    if facts.style:
        model["style"] = facts.style
    if facts.server:
        model["server"] = facts.server
    if facts.server_id is not None:
        model["server_id"] = str(facts.server_id)
    assertions: list[dict[str, Any]] = [
        {"label": "c2pa.actions", "data": {"actions": actions}},
        {"label": MODEL_LABEL, "data": model},
    ]
    if facts.authors:
        assertions.append(
            {
                "label": CREATIVE_WORK_LABEL,
                "data": {
                    "@context": "https://schema.org",
                    "@type": "CreativeWork",
                    "author": [{"@type": "Person", "name": author} for author in facts.authors],
                },
            }
        )
    return {
        "claim_generator_info": [agent],
        "title": title,
        "format": "video/mp4",
        "assertions": assertions,
    }


def sign_clip(
    src: Path, dest: Path, facts: ClipFacts, keys: Keys, *, max_bytes: int | None = None
) -> SignResult:
    """Write ``src`` with a signed manifest stating ``facts`` to ``dest`` (``dest`` may be ``src``: it is
    replaced whole, never half-written). Raises CredentialsError when signing fails or the signed clip
    would pass ``max_bytes`` (then ``dest`` is left as it was)."""
    import c2pa

    began = time.perf_counter()
    src, dest = Path(src), Path(dest)
    fmt = mime_type(dest)
    title = facts.title or dest.name
    try:
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(keys.alg, keys.chain_pem, keys.key_pem, None))
        definition = manifest_definition(facts, title) | {"format": fmt}  # a clip, or its poster (PNG)
        builder = c2pa.Builder(definition, context=_settings())
        for i, ing in enumerate(facts.ingredients):
            if ing.relationship not in RELATIONSHIPS:
                raise CredentialsError(f"{ing.relationship!r} is no C2PA ingredient relationship")
            with ing.path.open("rb") as stream:
                builder.add_ingredient(
                    {
                        "title": ing.title or ing.path.name,
                        "relationship": ing.relationship,
                        "label": f"ingredient-{i}",
                    },
                    mime_type(ing.path),
                    stream,
                )
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".signing", dir=dest.parent)
        tmp = Path(tmp_name)
        try:
            with src.open("rb") as source, os.fdopen(fd, "w+b") as out:
                builder.sign(signer, fmt, source, out)
            size = tmp.stat().st_size
            if max_bytes is not None and size > max_bytes:
                raise CredentialsError(
                    f"{dest.name} would be {size} bytes once signed, over the limit of {max_bytes}"
                )
            added = size - src.stat().st_size
            with contextlib.suppress(OSError):
                os.chmod(tmp, 0o644 & ~_umask())
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
    except c2pa.C2paError as exc:
        raise CredentialsError(f"cannot sign {dest.name}: {exc}") from exc
    except OSError as exc:
        raise CredentialsError(f"cannot sign {dest.name}: {exc}") from exc
    return SignResult(bytes_added=added, seconds=time.perf_counter() - began)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ------------------------------------------------------------------------------------------- reading

Status = Literal["none", "valid", "untrusted", "altered", "invalid"]


@dataclass(frozen=True)
class IngredientInfo:
    """One ingredient of a clip as its manifest records it, with its own manifest's facts if it had one."""

    title: str
    relationship: str
    format: str | None
    signed: bool  # it carried a manifest of its own
    model: str | None = None
    created: str | None = None
    authors: tuple[str, ...] = ()
    signer: str | None = None
    ingredients: tuple[IngredientInfo, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """What a file's content credentials say. ``status``: "none" (no manifest), "valid" (intact and
    signed under the trust root given, by one of the signing certificates given: this installation),
    "untrusted" (intact, from a signer not known here, or from another customer of the same CA),
    "altered" (the file changed after signing: a hash does not match), "invalid" (another failure: a
    broken signature, an expired certificate…)."""

    status: Status
    signer: str | None = None  # the certificate's common name
    issuer: str | None = None  # the certificate issuer's organisation
    signer_serial: str | None = None  # the signing certificate's serial number (decimal)
    this_installation: bool = False
    model: str | None = None  # the preset's title (name)
    model_facts: Mapping[str, Any] = field(default_factory=dict)
    created: str | None = None
    software: str | None = None
    ai_generated: bool = False  # a created/edited action with the trainedAlgorithmicMedia source type
    authors: tuple[str, ...] = ()
    title: str | None = None
    ingredients: tuple[IngredientInfo, ...] = ()
    failures: tuple[str, ...] = ()  # the validation failure codes (signingCredential.untrusted left out)

    @property
    def signed(self) -> bool:
        return self.status != "none"

    @property
    def intact(self) -> bool:
        """Signed, and the signature and every hash check out (whoever signed)."""
        return self.status in ("valid", "untrusted")


def _assertion(manifest: Mapping[str, Any], label: str) -> Any:
    for assertion in manifest.get("assertions") or ():
        if assertion.get("label") == label or str(assertion.get("label", "")).startswith(label + "."):
            return assertion.get("data")
    return None


def _actions(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    data = _assertion(manifest, "c2pa.actions")
    return list((data or {}).get("actions") or [])


def _model_line(model: Mapping[str, Any] | None) -> str | None:
    if not model:
        return None
    title, name = model.get("title"), model.get("preset")
    if title and name and title != name:
        return f"{title} ({name})"
    return str(title or name) if (title or name) else None


def _authors(manifest: Mapping[str, Any]) -> tuple[str, ...]:
    work = _assertion(manifest, CREATIVE_WORK_LABEL) or {}
    authors = work.get("author") or []
    if isinstance(authors, Mapping):
        authors = [authors]
    return tuple(str(a.get("name")) for a in authors if isinstance(a, Mapping) and a.get("name"))


def _created(manifest: Mapping[str, Any]) -> str | None:
    model = _assertion(manifest, MODEL_LABEL) or {}
    if model.get("created"):
        return str(model["created"])
    for action in _actions(manifest):
        if action.get("when"):
            return str(action["when"])
    return None


def _ingredients(
    manifest: Mapping[str, Any], manifests: Mapping[str, Any], seen: frozenset[str]
) -> tuple[IngredientInfo, ...]:
    found = []
    for ing in manifest.get("ingredients") or ():
        label = ing.get("active_manifest")
        own = manifests.get(label) if label and label not in seen else None
        if own is None:
            found.append(
                IngredientInfo(
                    title=str(ing.get("title") or "?"),
                    relationship=str(ing.get("relationship") or "?"),
                    format=ing.get("format"),
                    signed=bool(label),
                )
            )
            continue
        sig = own.get("signature_info") or {}
        found.append(
            IngredientInfo(
                title=str(ing.get("title") or own.get("title") or "?"),
                relationship=str(ing.get("relationship") or "?"),
                format=ing.get("format"),
                signed=True,
                model=_model_line(_assertion(own, MODEL_LABEL)),
                created=_created(own),
                authors=_authors(own),
                signer=sig.get("common_name") or sig.get("issuer"),
                ingredients=_ingredients(own, manifests, seen | {label}),
            )
        )
    return tuple(found)


def read_credentials(
    path: Path, trust_root_pem: bytes | None = None, own_signers: Collection[str] | None = None
) -> Verdict:
    """The verdict on ``path``'s content credentials, checked against ``trust_root_pem`` (this
    installation's roots: :func:`installation_root`, ``store.credentials.trust``) when given, and
    ``own_signers`` (the serial numbers of the installation's signing certificates), when given: a clip
    that chains to a trusted root but was signed by another certificate (another customer of a public
    CA) is "untrusted", not the installation's. Raises UnreadableFile for a file that is missing or no
    media file c2pa can parse."""
    import c2pa

    path = Path(path)
    try:
        with path.open("rb") as stream:
            fmt = MIME_TYPES.get(path.suffix.lower())
            context = _settings(trust_root_pem)
            try:
                reader = (
                    c2pa.Reader(fmt, stream, None, context) if fmt else c2pa.Reader(stream, None, context)
                )
            except c2pa.C2paError.ManifestNotFound:
                return Verdict(status="none")
            with reader:
                store = json.loads(reader.json())
                state = reader.get_validation_state()
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path}: {exc.strerror or exc}") from exc
    except c2pa.C2paError as exc:
        raise UnreadableFile(f"{path.name} is no media file whose credentials can be read: {exc}") from exc

    manifests: Mapping[str, Any] = store.get("manifests") or {}
    label = store.get("active_manifest")
    manifest = manifests.get(label) if label else None
    if manifest is None:
        return Verdict(status="invalid", failures=("claim.missing",))
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    failures = tuple(
        str(f.get("code"))
        for f in results.get("failure") or ()
        if f.get("code") != "signingCredential.untrusted"
    )
    sig = manifest.get("signature_info") or {}
    serial = str(sig["cert_serial_number"]) if sig.get("cert_serial_number") is not None else None
    if any(code.endswith(".mismatch") or "hash" in code.lower() for code in failures):
        status: Status = "altered"
    elif failures or state == "Invalid":
        status = "invalid"
    elif state == "Trusted" and (own_signers is None or serial in own_signers):
        status = "valid"
    else:
        status = "untrusted"
    model = _assertion(manifest, MODEL_LABEL) or {}
    ai = any(
        a.get("digitalSourceType") == TRAINED_ALGORITHMIC_MEDIA
        and a.get("action") in ("c2pa.created", "c2pa.edited")
        for a in _actions(manifest)
    )
    return Verdict(
        status=status,
        signer=sig.get("common_name"),
        issuer=sig.get("issuer"),
        signer_serial=serial,
        this_installation=status == "valid" and trust_root_pem is not None,
        model=_model_line(model),
        model_facts=dict(model),
        created=_created(manifest),
        software=model.get("software") or _software(manifest),
        ai_generated=ai,
        authors=_authors(manifest),
        title=manifest.get("title"),
        ingredients=_ingredients(manifest, manifests, frozenset({label})),
        failures=failures,
    )


def _software(manifest: Mapping[str, Any]) -> str | None:
    for info in manifest.get("claim_generator_info") or ():
        if info.get("name"):
            return f"{info['name']}/{info.get('version', '?')}"
    return None


STATUS_LINES = {
    "none": "no content credentials: nothing in this file says who or what made it",
    "valid": "content credentials: valid, signed by this installation",
    "untrusted": "content credentials: intact, from a signer this installation does not know",
    "altered": "content credentials: the file was ALTERED after it was signed",
    "invalid": "content credentials: INVALID",
}


def _ingredient_lines(ingredients: Sequence[IngredientInfo], depth: int) -> list[str]:
    lines = []
    for ing in ingredients:
        kind = {"parentOf": "parent", "componentOf": "contains", "inputTo": "made from"}.get(
            ing.relationship, ing.relationship
        )
        line = f"{'  ' * depth}- {kind}: {ing.title}"
        if ing.signed and ing.model:
            line += f", made by {ing.model}"
        if ing.authors:
            line += f" by {', '.join(ing.authors)}"
        if ing.created:
            line += f", {ing.created}"
        if not ing.signed:
            line += " (no credentials of its own)"
        lines.append(line)
        lines.extend(_ingredient_lines(ing.ingredients, depth + 1))
    return lines


def verdict_text(verdict: Verdict) -> str:
    """A few English lines for ``videobot verify``."""
    lines = [STATUS_LINES[verdict.status]]
    if verdict.status == "none":
        return lines[0]
    if verdict.failures:
        lines.append(f"failed checks: {', '.join(verdict.failures)}")
    signer = verdict.signer or "unknown"
    if verdict.issuer:
        signer += f" (issued by {verdict.issuer})"
    lines.append(f"signer: {signer}")
    if verdict.ai_generated:
        lines.append(f"AI-generated by {verdict.model or 'a model'}")
    elif verdict.model:
        lines.append(f"model: {verdict.model}")
    facts = verdict.model_facts
    if facts.get("source"):
        lines.append(f"model source: {facts['source']} ({facts.get('pipeline', '?')})")
    if facts.get("style"):
        lines.append(f"style: {facts['style']}")
    if facts.get("server"):
        lines.append(f"server: {facts['server']}")
    if verdict.created:
        lines.append(f"made: {verdict.created}" + (f" with {verdict.software}" if verdict.software else ""))
    if verdict.authors:
        lines.append(f"authors: {', '.join(verdict.authors)}")
    if verdict.ingredients:
        lines.append("made from:")
        lines.extend(_ingredient_lines(verdict.ingredients, 1))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- CLI


def run_verify(args: Any) -> int:
    """``videobot verify FILE``: the verdict on stdout; 0 intact, 1 none or not intact, 2 unreadable."""
    import sys

    try:
        signer = installation_signer()
        own = None if signer is None else {signer}
        verdict = read_credentials(Path(args.file), installation_root(), own)
    except UnreadableFile as exc:
        print(f"videobot verify: error: {exc}", file=sys.stderr)
        return 2
    print(verdict_text(verdict))
    return 0 if verdict.intact else 1
