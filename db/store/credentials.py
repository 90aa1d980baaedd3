"""The installation's signing certificates: what its bots sign clips with (migration V21).

Every bot process records its signing certificate and the root its chain ends in when it starts
(:func:`db.credentials.ensure_keys`), so a clip signed by any of the installation's bot hosts reads as the
installation's own wherever it is checked: ``/verify`` on any shard, and the web gallery, which holds no
key at all. Both are needed: the roots are the trust anchors a reader validates the chain against, and
the signing certificates say the clip is ours (an operator's root from a public CA is every customer's
of that CA). Only certificates are kept here; the private keys stay in each bot host's key folder.
"""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass

from db.credentials import cert_serial
from db.store.part import Part


def cert_fingerprint(pem: bytes) -> str:
    """The SHA-256 of a PEM certificate's DER bytes (the first one in ``pem``), hex. Raises ValueError for
    text that is no PEM certificate."""
    text = pem.decode("ascii")
    start = text.find("-----BEGIN CERTIFICATE-----")
    end = text.find("-----END CERTIFICATE-----", start)
    if start < 0 or end < 0:
        raise ValueError("not a PEM certificate")
    first = text[start : end + len("-----END CERTIFICATE-----")]
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(first)).hexdigest()


@dataclass(frozen=True)
class Trust:
    """What makes a clip the installation's: its chain ends in one of ``roots`` (one PEM bundle, empty
    when no bot started yet) and its signing certificate's serial number is one of ``signers``."""

    roots: bytes
    signers: frozenset[str]


class CredentialStore(Part):
    async def record_signer(self, root_pem: bytes, signer_pem: bytes) -> None:
        """Note a signing certificate (the first in ``signer_pem``) and its root; again changes nothing."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "credential_signer_record",
                fingerprint=cert_fingerprint(signer_pem),
                serial=cert_serial(signer_pem),
                root_pem=root_pem.decode("ascii").strip(),
                now=self.clock(),
            )

    async def trust(self) -> Trust:
        """The installation's roots and signing certificates, for reading a clip's credentials."""
        async with self._db.transaction(write=False) as tx:
            found = await tx.fetch_all("credential_signers")
        roots = dict.fromkeys(str(row["root_pem"]).strip() for row in found)
        return Trust(
            roots=b"".join(root.encode("ascii") + b"\n" for root in roots),
            signers=frozenset(str(row["serial"]) for row in found),
        )
