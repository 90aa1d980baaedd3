"""The installation's signing roots: the public root certificates its bots sign clips under (migration V21).

Every bot process records the root of its keys when it starts (:func:`db.credentials.ensure_keys`), so a
clip signed by any of the installation's bot hosts reads as the installation's own wherever it is checked:
``/verify`` on any shard, and the web gallery, which holds no key at all. Only certificates are kept here;
the private keys stay in each bot host's key folder.
"""

from __future__ import annotations

import hashlib
import ssl

from db.store.part import Part


def root_fingerprint(pem: bytes) -> str:
    """The SHA-256 of a PEM certificate's DER bytes, hex. Raises ValueError for text that is no PEM
    certificate."""
    text = pem.decode("ascii")
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ValueError("not a PEM certificate")
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(text.strip())).hexdigest()


class CredentialStore(Part):
    async def record_root(self, pem: bytes) -> None:
        """Note a root certificate (PEM) the installation signs under; recording it again changes nothing."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "credential_root_record",
                fingerprint=root_fingerprint(pem),
                pem=pem.decode("ascii"),
                now=self.clock(),
            )

    async def roots(self) -> bytes:
        """Every root the installation's bots sign under, as one PEM bundle (empty when none yet): the
        trust anchors that make a clip "signed by this installation"."""
        async with self._db.transaction(write=False) as tx:
            found = await tx.fetch_all("credential_roots")
        return b"".join(str(row["pem"]).strip().encode("ascii") + b"\n" for row in found)
