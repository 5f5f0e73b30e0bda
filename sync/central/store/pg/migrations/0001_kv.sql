-- The central's buckets: one row per key. bucket is the bucket's path
-- (names joined by a zero byte); values are sealed above the store when
-- they hold personal data.
CREATE TABLE kv (
	bucket bytea NOT NULL,
	key    bytea NOT NULL,
	value  bytea NOT NULL,
	PRIMARY KEY (bucket, key)
);

-- Each bucket's last sequence number (store.Bucket.NextSequence).
CREATE TABLE kv_seq (
	bucket bytea PRIMARY KEY,
	n      bigint NOT NULL
);
