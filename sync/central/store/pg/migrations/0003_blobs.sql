-- Large values (a sealed photo revision) written ahead of the write lock:
-- a writer stores them here first, concurrently with the other nodes'
-- writers, then takes the lock and points its kv rows at them (kv.blob;
-- kv.value is then empty). Each blob belongs to one kv row: when the row
-- is deleted or given another value, its blob goes with it, so that a
-- value deleted or overwritten leaves nothing behind here either.
CREATE TABLE kv_blob (
	id    bytea PRIMARY KEY,
	value bytea NOT NULL
);
ALTER TABLE kv_blob ALTER COLUMN value SET STORAGE EXTERNAL;

ALTER TABLE kv ADD COLUMN blob bytea;

CREATE FUNCTION kv_blob_drop() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM kv_blob WHERE id = OLD.blob;
	RETURN NULL;
END
$$;

CREATE TRIGGER kv_blob_drop_on_delete AFTER DELETE ON kv
	FOR EACH ROW WHEN (OLD.blob IS NOT NULL) EXECUTE FUNCTION kv_blob_drop();
CREATE TRIGGER kv_blob_drop_on_update AFTER UPDATE ON kv
	FOR EACH ROW WHEN (OLD.blob IS NOT NULL AND NEW.blob IS DISTINCT FROM OLD.blob) EXECUTE FUNCTION kv_blob_drop();
