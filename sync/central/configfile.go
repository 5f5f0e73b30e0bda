package central

import (
	"errors"
	"fmt"
	"os"

	"examkiosk/internal/tomlconf"
)

// ConfigError is a bad setting of the central's configuration: its key,
// what is expected, and the file and line it was read from when it came
// from a file (Line 0: the file does not set the key, or a flag set it).
// It is the kiosk's kind of config error too (internal/tomlconf).
type ConfigError = tomlconf.Error

// ConfigFile is a TOML file read into a Config: it keeps the file's text, to
// name file and line in the errors about the values it set.
type ConfigFile struct {
	Path string
	data []byte
}

// ReadConfigFile decodes the [central] table of the TOML file at path over
// cfg (keys it does not set keep cfg's values). A syntax error, a value of
// the wrong type and an unknown key under [central] are reported as
// *ConfigError with the file and line. Validate the result after applying
// flags, then pass the error to Annotate.
func ReadConfigFile(path string, cfg *Config) (*ConfigFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	f := &ConfigFile{Path: path, data: data}
	var doc struct {
		Central *Config `toml:"central"`
	}
	doc.Central = cfg
	md, err := tomlconf.Decode(path, data, &doc)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, k := range md.Undecoded() {
		if len(k) > 0 && k[0] == "central" {
			errs = append(errs, &ConfigError{Key: k.String(),
				Msg: "unknown key; see README.md, section Central server, for the keys the central understands"})
		}
	}
	return f, f.Annotate(errors.Join(errs...))
}

// Annotate names f's file, and the line where f set the key, in each error
// of err (Config.Validate's errors.Join): a *ConfigError gets them filled
// in, an error in Validate's "central.key: what is wrong" form becomes a
// *ConfigError (see tomlconf.Annotate). A key the file did not set (a
// default or a flag) keeps Line 0. f may be nil (no file was read): err is
// returned as it is.
func (f *ConfigFile) Annotate(err error) error {
	if f == nil || err == nil {
		return err
	}
	return tomlconf.Annotate(err, f.Path, f.data)
}
