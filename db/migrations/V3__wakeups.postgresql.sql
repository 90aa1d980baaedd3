-- Nothing to store: PostgreSQL wakes waiters with LISTEN/NOTIFY. Kept so both dialects number 1..n.
SELECT 1;
