-- Failures as codes with parameters (the bot words them in each member's language); deleted clips
-- leave /top and /show; workers say whether they are starting, serving or paused, and why.

ALTER TABLE jobs ADD COLUMN error_code TEXT;
ALTER TABLE jobs ADD COLUMN error_params TEXT NOT NULL DEFAULT '{}';
ALTER TABLE jobs ADD COLUMN deleted_at DOUBLE PRECISION;
ALTER TABLE workers ADD COLUMN state TEXT NOT NULL DEFAULT 'ready'
    CHECK (state IN ('starting', 'ready', 'paused'));
ALTER TABLE workers ADD COLUMN note TEXT NOT NULL DEFAULT '';
