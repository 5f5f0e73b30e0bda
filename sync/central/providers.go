package central

import (
	"crypto/rsa"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"examkiosk/sync/provider"
	"examkiosk/sync/provider/sim"
	"examkiosk/sync/wire"
)

// providerKey is the central's application at one outside provider and the
// provider's public key.
type providerKey struct {
	appID string
	pub   *rsa.PublicKey
}

// loadProviders reads the configured provider keys. In demo mode a provider
// without a configured key is played by a simulator whose key lives in
// <data_dir>/demo-providers; outside demo mode it is off (its QR channel and
// payments are refused).
func (s *Server) loadProviders() error {
	s.providers = map[string]providerKey{}
	s.demoSims = map[string]*sim.Provider{}
	for ch, pc := range map[string]ProviderConfig{wire.ChannelAlipay: s.cfg.Alipay, wire.ChannelSocialSecurity: s.cfg.SocialSecurity} {
		switch {
		case pc.PublicKeyFile != "":
			data, err := os.ReadFile(pc.PublicKeyFile)
			if err != nil {
				return fmt.Errorf("central.%s.public_key_file: %w", ch, err)
			}
			pub, err := provider.ParsePublicKey(data)
			if err != nil {
				return fmt.Errorf("central.%s.public_key_file %s: %w", ch, pc.PublicKeyFile, err)
			}
			s.providers[ch] = providerKey{appID: pc.AppID, pub: pub}
		case s.cfg.Demo:
			p, err := sim.LoadOrCreate(filepath.Join(s.cfg.DataDir, "demo-providers", ch+".pem"), "demo-"+ch)
			if err != nil {
				return err
			}
			s.providers[ch] = providerKey{appID: p.AppID, pub: p.PublicKey()}
			s.demoSims[ch] = p
			s.log.Info("demo: a simulated provider with a local key plays "+ch, "key", filepath.Join(s.cfg.DataDir, "demo-providers", ch+".pem"))
		default:
			s.log.Warn("provider not configured: its QR login and payments are refused", "provider", ch,
				"keys", "central."+ch+".app_id, central."+ch+".public_key_file")
		}
	}
	return nil
}

// DemoProvider returns the simulator playing a channel's provider
// (wire.ChannelAlipay also takes payments) in demo mode, or nil.
func (s *Server) DemoProvider(channel string) *sim.Provider { return s.demoSims[channel] }

// verifyProvider checks a provider's signed parameters: signature by the
// channel's key and the central's app_id.
func (s *Server) verifyProvider(channel string, params url.Values) error {
	k, ok := s.providers[channel]
	if !ok {
		return fmt.Errorf("provider %s is not configured", channel)
	}
	if err := provider.Verify(k.pub, params); err != nil {
		return err
	}
	if params.Get("app_id") != k.appID {
		return fmt.Errorf("app_id %q is not this central's application %q at %s", params.Get("app_id"), k.appID, channel)
	}
	return nil
}

// freshProviderTime reports whether a provider's timestamp is within the
// clock skew of now.
func (s *Server) freshProviderTime(t time.Time) bool {
	d := s.now().Sub(t)
	return d <= s.cfg.ClockSkew && d >= -s.cfg.ClockSkew
}
