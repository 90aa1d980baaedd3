-- The installation's signing roots (db/store/credentials.py). Parameters are written :name.

-- name: credential_root_record
-- A bot host's root certificate, once.
INSERT INTO credential_roots (fingerprint, pem, first_seen) VALUES (:fingerprint, :pem, :now)
ON CONFLICT (fingerprint) DO NOTHING;

-- name: credential_roots
-- Every root the installation's bots sign under, oldest first.
SELECT pem FROM credential_roots ORDER BY first_seen, fingerprint;
