-- Content credentials (db/credentials.py, issue 21): the root certificates (public, PEM) that this
-- installation's bot hosts sign clips under. Each bot process records its root when it starts, so /verify
-- on any shard and the web gallery (which holds no key) recognise every clip of the installation as its
-- own. Private keys never enter the database: they stay in each bot host's key folder.
CREATE TABLE credential_roots (
    fingerprint TEXT PRIMARY KEY,  -- SHA-256 of the certificate (DER), hex
    pem         TEXT NOT NULL,
    first_seen  DOUBLE PRECISION NOT NULL
);

-- The bytes of a posted clip's manifest store (NULL until the bot signed it): a clip made from it carries
-- that store inside its own manifest, so its worker leaves that much room under the upload limit.
ALTER TABLE jobs ADD COLUMN manifest_bytes INTEGER;
