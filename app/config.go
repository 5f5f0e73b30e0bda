package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"examkiosk/app/store"
	"examkiosk/app/ticket"
	"examkiosk/device/camera"
	"examkiosk/device/face"
	"examkiosk/device/printer"
	"examkiosk/exam"
	"examkiosk/internal/paths"
	"examkiosk/internal/tomlconf"
	"examkiosk/sync/kiosk"
)

// DefaultConfigPath is where an installed kiosk reads its configuration.
const DefaultConfigPath = "/etc/examkiosk/config.toml"

// Config is the kiosk configuration, read from a TOML file. Every key, its
// default and its meaning are documented in README.md ("Configuration").
// Each part of the kiosk owns its table and validates it: camera, face,
// store and sync.
type Config struct {
	Centre CentreConfig  `toml:"centre"`
	Kiosk  KioskConfig   `toml:"kiosk"`
	Camera camera.Config `toml:"camera"`
	Face   face.Config   `toml:"face"`
	Store  store.Config  `toml:"store"`
	Sync   kiosk.Config  `toml:"sync"`
	// Review holds the reviewers' working hours, from which the receipt and
	// the status screen say when the review is due.
	Review exam.ReviewHours `toml:"review"`
	// Printer is the CUPS queue admission tickets print on; Ticket the
	// ticket's font (admission.go).
	Printer printer.Config `toml:"printer"`
	Ticket  TicketConfig   `toml:"ticket"`
}

// TicketConfig configures the admission ticket's PDF.
type TicketConfig struct {
	// Font is a TrueType font (.ttf, or a .ttc whose first font is used)
	// with Chinese and Latin glyphs, embedded in the ticket.
	Font string `toml:"font"`
}

// CentreConfig identifies the test centre the kiosk stands in.
type CentreConfig struct {
	Name string `toml:"name"` // shown on the welcome screen and on the phone before a QR login is confirmed
	Code string `toml:"code"` // the centre's code at the central system
}

// KioskConfig holds settings of the kiosk itself.
type KioskConfig struct {
	Language    string `toml:"language"`     // zh-CN or en: the language the welcome screen starts in
	IdleSeconds int    `toml:"idle_seconds"` // back to the welcome screen after this long without input
	// StaffPINHash is the argon2id hash of the 6-12 digit PIN that opens
	// the staff console (examkiosk --hash-pin makes it; pin.go).
	StaffPINHash PINHash `toml:"staff_pin_hash"`
}

// DefaultConfig returns the configuration used for every key the file does
// not set.
func DefaultConfig() Config {
	c := Config{
		Kiosk:  KioskConfig{Language: "zh-CN", IdleSeconds: 120},
		Camera: camera.DefaultConfig(),
		Face:   face.DefaultConfig(),
		Store:  store.DefaultConfig(),
		Sync:   kiosk.DefaultConfig(),
		Review: exam.DefaultReviewHours(),
	}
	c.Printer, c.Ticket = printer.DefaultConfig(), TicketConfig{Font: ticket.DefaultFont}
	c.Face.ModelsDir = paths.ModelsDir()
	return c
}

// ConfigError names the file, the key (or, for a syntax error, the line and
// the header's text) and what was expected.
type ConfigError = tomlconf.Error

// LoadConfig reads the TOML file at path over the defaults and validates
// the result. Unknown keys are errors, so that a typo never silently leaves
// a default in force.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, &ConfigError{File: path, Msg: fmt.Sprintf("cannot read it (%v); copy build/config.example.toml there or pass --config PATH", err)}
	}
	md, err := tomlconf.Decode(path, data, &cfg)
	if err != nil {
		return Config{}, err
	}
	if md.IsDefined("kiosk", "staff_pin") {
		return Config{}, &ConfigError{File: path, Key: "kiosk.staff_pin", Line: tomlconf.KeyLine(data, "kiosk.staff_pin"), Msg: "the PIN is not kept in the clear any more: run `examkiosk --hash-pin`, type the PIN, and put the line it prints in [kiosk] instead (kiosk.staff_pin_hash)"}
	}
	// Every unknown key and every bad value, in one report.
	var errs []error
	for _, k := range md.Undecoded() {
		errs = append(errs, &ConfigError{Key: k.String(), Msg: "unknown key; see README.md, section Configuration, for the keys a kiosk understands"})
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return Config{}, tomlconf.Annotate(errors.Join(errs...), path, data)
	}
	return cfg, nil
}

// Validate checks every key and reports every bad one at once (errors.Join
// of *ConfigError), each naming its key and what is expected of it.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, msg string) { errs = append(errs, &ConfigError{Key: key, Msg: msg}) }
	if strings.TrimSpace(c.Centre.Name) == "" {
		bad("centre.name", "required: the test-centre name shown to candidates, e.g. name = \"Hangzhou Personnel Examination Centre\"")
	}
	if n := len([]rune(c.Centre.Name)); n > 60 {
		bad("centre.name", fmt.Sprintf("at most 60 characters, got %d", n))
	}
	switch c.Kiosk.Language {
	case "zh-CN", "en":
	default:
		bad("kiosk.language", fmt.Sprintf("expected \"zh-CN\" or \"en\", got %q", c.Kiosk.Language))
	}
	if c.Kiosk.IdleSeconds < 15 || c.Kiosk.IdleSeconds > 3600 {
		bad("kiosk.idle_seconds", fmt.Sprintf("expected 15 to 3600, got %d", c.Kiosk.IdleSeconds))
	}
	if h := c.Kiosk.StaffPINHash; h != "" {
		if err := h.Validate(); err != nil {
			bad("kiosk.staff_pin_hash", err.Error())
		}
	}
	for _, t := range []struct {
		table string
		v     interface{ Validate() error }
	}{{"camera", c.Camera}, {"face", c.Face}, {"store", c.Store}, {"sync", c.Sync}, {"review", c.Review}, {"printer", c.Printer}} {
		table, v := t.table, t.v
		// Each error of a table's report stays one error: those that
		// start with their key ("sync.batch_max_items: …") get its line
		// in LoadConfig; any other is named by the table.
		var leaves []error
		if err := v.Validate(); err != nil {
			leaves = []error{err}
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				leaves = j.Unwrap()
			}
		}
		for _, err := range leaves {
			if strings.HasPrefix(err.Error(), table+".") {
				errs = append(errs, err)
			} else {
				errs = append(errs, &ConfigError{Key: table, Msg: err.Error()})
			}
		}
	}
	if !filepath.IsAbs(c.Face.ModelsDir) {
		bad("face.models_dir", fmt.Sprintf("expected an absolute path, got %q", c.Face.ModelsDir))
	}
	if !filepath.IsAbs(c.Ticket.Font) {
		bad("ticket.font", fmt.Sprintf("expected an absolute path, got %q", c.Ticket.Font))
	}
	if !filepath.IsAbs(c.Store.Path) {
		bad("store.path", fmt.Sprintf("expected an absolute path, got %q", c.Store.Path))
	}
	return errors.Join(errs...)
}

var staffPINRE = regexp.MustCompile(`^[0-9]{6,12}$`)
