-- Nothing to store: with SQLite, members' pictures are files in media/inputs/. Kept so both dialects
-- number 1..n.
SELECT 1;
