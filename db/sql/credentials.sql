-- The installation's signing certificates (db/store/credentials.py). Parameters are written :name.

-- name: credential_signer_record
-- A bot host's signing certificate, once.
INSERT INTO credential_signers (fingerprint, serial, root_pem, first_seen)
VALUES (:fingerprint, :serial, :root_pem, :now)
ON CONFLICT (fingerprint) DO NOTHING;

-- name: credential_signers
-- Every signing certificate of the installation's bots and its root, oldest first.
SELECT serial, root_pem FROM credential_signers ORDER BY first_seen, fingerprint;
