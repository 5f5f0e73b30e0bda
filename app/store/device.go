package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Identity is the kiosk's device identity: its id and the Ed25519 key that
// signs its sync requests. The private key is sealed at rest.
type Identity struct {
	DeviceID   string
	PrivateKey ed25519.PrivateKey
}

// Identity returns the stored device identity, or ErrNotFound.
func (s *Store) Identity(ctx context.Context) (Identity, error) {
	var id Identity
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bktDevice)
		dev, sealed := b.Get(keyDeviceID), b.Get(keyPrivate)
		if dev == nil || sealed == nil {
			return ErrNotFound
		}
		key, err := s.seal.open(bktDevice, keyPrivate, sealed)
		if err != nil {
			return err
		}
		id = Identity{DeviceID: string(dev), PrivateKey: ed25519.PrivateKey(key)}
		return nil
	})
	if err != nil {
		return Identity{}, fmt.Errorf("device identity: %w", err)
	}
	return id, nil
}

// PutIdentity stores the device identity, replacing any before it.
func (s *Store) PutIdentity(ctx context.Context, id Identity) error {
	if id.DeviceID == "" || len(id.DeviceID) > 64 {
		return fmt.Errorf("put device identity: device id %q: expected 1 to 64 bytes", id.DeviceID)
	}
	if len(id.PrivateKey) != ed25519.PrivateKeySize ||
		!bytes.Equal(ed25519.NewKeyFromSeed(id.PrivateKey.Seed()), id.PrivateKey) {
		return fmt.Errorf("put device identity: private key is not a valid Ed25519 key")
	}
	now := s.now().UTC()
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bktDevice)
		if err := b.Put(keyDeviceID, []byte(id.DeviceID)); err != nil {
			return err
		}
		if err := b.Put(keyPrivate, s.seal.seal(bktDevice, keyPrivate, id.PrivateKey)); err != nil {
			return err
		}
		pub := id.PrivateKey.Public().(ed25519.PublicKey)
		return s.appendAudit(tx, now, "device_identity", id.DeviceID, fmt.Sprintf("public key %x", []byte(pub)))
	})
	if err != nil {
		return fmt.Errorf("put device identity: %w", err)
	}
	return nil
}

func settingKey(name string) []byte { return []byte("setting/" + name) }

// Setting returns a device setting stored with PutSetting, or ErrNotFound.
func (s *Store) Setting(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := s.view(ctx, func(tx *bolt.Tx) error {
		k := settingKey(name)
		sealed := tx.Bucket(bktDevice).Get(k)
		if sealed == nil {
			return ErrNotFound
		}
		var err error
		v, err = s.seal.open(bktDevice, k, sealed)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("setting %s: %w", name, err)
	}
	return v, nil
}

// PutSetting stores a sealed device setting (e.g. the staff PIN hash).
func (s *Store) PutSetting(ctx context.Context, name string, value []byte) error {
	if name == "" || len(name) > 100 {
		return fmt.Errorf("put setting: name %q: expected 1 to 100 bytes", name)
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		k := settingKey(name)
		return tx.Bucket(bktDevice).Put(k, s.seal.seal(bktDevice, k, value))
	})
	if err != nil {
		return fmt.Errorf("put setting %s: %w", name, err)
	}
	return nil
}
