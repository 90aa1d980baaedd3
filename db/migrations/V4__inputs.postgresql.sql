-- Members' pictures (a clip's first frame), stored once by content hash where every GPU host reads them.
CREATE TABLE inputs (
    ref        TEXT PRIMARY KEY,
    data       BYTEA NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
