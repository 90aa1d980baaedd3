-- Where a clip was made: in an age-restricted channel (Discord's NSFW flag, where a server may allow its
-- blocked words), or built on a clip that was (a reroll, remix, extend or story scene inherits it from
-- its parent). Such a clip is shown again only in an age-restricted channel and never in the web
-- gallery. Clips made before this migration have no record: nothing tells, so they count as made in an
-- ordinary channel (0).

ALTER TABLE jobs ADD COLUMN age_restricted INTEGER NOT NULL DEFAULT 0;
