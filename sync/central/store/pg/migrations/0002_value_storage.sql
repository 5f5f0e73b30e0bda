-- Values are sealed (random-looking) or small: PostgreSQL's attempt to
-- compress each large one (a 40 KB photo revision) costs CPU and never
-- gains, so store them out of line uncompressed.
ALTER TABLE kv ALTER COLUMN value SET STORAGE EXTERNAL;
