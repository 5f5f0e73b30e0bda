package central

import "examkiosk/sync/central/store"

// DropRegIndex deletes the registration index and its version, as a store
// written before the index holds them (the next open rebuilds it).
func (s *Server) DropRegIndex() error {
	return s.db.Update(func(tx store.Tx) error {
		for _, name := range [][]byte{bRegIndex, bRegPos, bRegCounts} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bMeta).Delete(kRegIndex)
	})
}
