"""The installation's signing certificates: what its bots sign clips with (migration V21).

Every bot process records its signing certificate and the root its chain ends in when it starts
(:func:`db.credentials.ensure_keys`), so a clip signed by any of the installation's bot hosts reads as the
installation's own wherever it is checked: ``/verify`` on any shard, and the web gallery, which holds no
key at all. Both are needed: the roots are the trust anchors a reader validates the chain against, and
the signing certificates say the clip is ours (an operator's root from a public CA is every customer's
of that CA). Only certificates are kept here; the private keys stay in each bot host's key folder.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from db.credentials import Verdict, cert_fingerprint, cert_serial, read_credentials
from db.store.part import Part


@dataclass(frozen=True)
class Trust:
    """What makes a clip the installation's: its chain ends in one of ``roots`` (one PEM bundle, empty
    when no bot started yet) and its signing certificate's serial number is one of ``signers``."""

    roots: bytes
    signers: frozenset[str]

    def verdict(self, video: bytes, suffix: str = ".mp4") -> Verdict:
        """What a file's bytes' content credentials say, checked against this trust (written to a private
        temporary file: c2pa reads files). Raises UnreadableFile. Blocking: run it in a thread."""
        with tempfile.TemporaryDirectory(prefix="videobot-credentials-") as folder:
            path = Path(folder) / f"checked{suffix}"
            path.write_bytes(video)
            return read_credentials(path, self.roots or None, self.signers)


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
