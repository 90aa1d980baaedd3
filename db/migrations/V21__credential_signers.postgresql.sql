-- Content credentials (db/credentials.py, issue 21): the certificates this installation's bot hosts sign
-- clips with. Each bot process records its own when it starts, so /verify on any shard and the web
-- gallery (which holds no key) recognise every clip of the installation as its own: a clip whose chain
-- ends in one of these roots and whose signing certificate is one of these (a root from a public CA is
-- shared by all its customers, so the root alone does not say the clip is ours). Private keys never
-- enter the database: they stay in each bot host's key folder.
CREATE TABLE credential_signers (
    fingerprint TEXT PRIMARY KEY,  -- SHA-256 of the signing certificate (DER), hex
    serial      TEXT NOT NULL,     -- its serial number, in decimal, as C2PA readers name the signer
    root_pem    TEXT NOT NULL,     -- the root certificate its chain ends in (PEM)
    first_seen  DOUBLE PRECISION NOT NULL
);

-- The bytes of a posted clip's manifest store (NULL until the bot signed it): a clip made from it carries
-- that store inside its own manifest, so its worker leaves that much room under the upload limit.
ALTER TABLE jobs ADD COLUMN manifest_bytes INTEGER;
