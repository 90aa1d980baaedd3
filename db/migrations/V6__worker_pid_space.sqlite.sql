-- A worker's pid means something only in the process namespace it was read in: one boot of one
-- machine, outside or inside one container. The row names that namespace, so a worker of another
-- machine that happens to share the host name is never taken for dead because its pid is not here.

ALTER TABLE workers ADD COLUMN pid_space TEXT;
