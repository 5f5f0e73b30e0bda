package store

import (
	"fmt"
	"os"
	"path/filepath"

	"examkiosk/app/registration"
)

// Config configures the store. The lead embeds it in the kiosk config under
// its own table, e.g. [store].
type Config struct {
	// Path is the bbolt database file (created with mode 0600).
	Path string `toml:"path"`
	// KeyFile holds the 256-bit data key that seals personal data (hex, mode
	// 0600). Empty means Path + ".key". Back it up apart from the database:
	// without it the sealed records cannot be read.
	KeyFile string `toml:"key_file"`
	// RetentionDays is how many days after the central acknowledged delivery
	// (or after a withdrawal) photos and face descriptors are purged.
	RetentionDays int `toml:"retention_days"`
	// LockTimeoutSeconds is how long Open waits for another process holding
	// the database file before giving up.
	LockTimeoutSeconds int `toml:"lock_timeout_seconds"`
	// Limits bounds the registration fields.
	Limits registration.Limits `toml:"limits"`
}

// DefaultConfig returns the defaults: the database in
// $XDG_DATA_HOME/examkiosk/kiosk.db (~/.local/share/examkiosk/kiosk.db),
// its key beside it, photos kept 7 days after delivery.
func DefaultConfig() Config {
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, ".local", "share")
		}
	}
	return Config{
		Path:               filepath.Join(dir, "examkiosk", "kiosk.db"),
		RetentionDays:      7,
		LockTimeoutSeconds: 2,
		Limits:             registration.DefaultLimits(),
	}
}

// Validate checks the configuration; errors name the key and what is expected.
func (c Config) Validate() error {
	if c.Path == "" {
		return fmt.Errorf("store.path is empty: expected the path of the database file")
	}
	if c.KeyFile != "" && filepath.Clean(c.KeyFile) == filepath.Clean(c.Path) {
		return fmt.Errorf("store.key_file = %q: expected a file other than store.path", c.KeyFile)
	}
	if c.RetentionDays < 0 || c.RetentionDays > 3650 {
		return fmt.Errorf("store.retention_days = %d: expected a whole number of days from 0 to 3650", c.RetentionDays)
	}
	if c.LockTimeoutSeconds < 1 || c.LockTimeoutSeconds > 600 {
		return fmt.Errorf("store.lock_timeout_seconds = %d: expected 1 to 600 seconds", c.LockTimeoutSeconds)
	}
	if err := c.Limits.Validate(); err != nil {
		return fmt.Errorf("store.limits.%w", err)
	}
	return nil
}

// keyFile returns the key file path.
func (c Config) keyFile() string {
	if c.KeyFile != "" {
		return c.KeyFile
	}
	return c.Path + ".key"
}
