package central_test

import (
	"strings"
	"testing"
	"time"

	"examkiosk/sync/central"
)

// TestConfigLimitsInclusive: every range of the central's settings at its
// documented ends is accepted, and one step past either end is refused with
// the key named (an operator's config.toml at the edge must start; one past
// it must not).
func TestConfigLimitsInclusive(t *testing.T) {
	type edit = func(c *central.Config)
	for _, tc := range []struct {
		key     string
		ok, bad []edit
	}{
		{"central.clock_skew", []edit{
			func(c *central.Config) { c.ClockSkew = time.Minute },
			func(c *central.Config) { c.ClockSkew = time.Hour },
		}, []edit{
			func(c *central.Config) { c.ClockSkew = time.Minute - 1 },
			func(c *central.Config) { c.ClockSkew = time.Hour + 1 },
		}},
		{"central.max_batch_items", []edit{
			func(c *central.Config) { c.MaxBatchItems = 1 },
			func(c *central.Config) { c.MaxBatchItems = 10000 },
		}, []edit{
			func(c *central.Config) { c.MaxBatchItems = 10001 },
		}},
		{"central.max_body_bytes", []edit{
			func(c *central.Config) { c.MaxBodyBytes = 1 << 20 },
		}, []edit{
			func(c *central.Config) { c.MaxBodyBytes = 1<<20 - 1 },
		}},
		{"central.max_request_bytes", []edit{
			func(c *central.Config) { c.MaxRequestBytes = 4 << 10 },
			func(c *central.Config) { c.MaxRequestBytes = c.MaxBodyBytes },
		}, []edit{
			func(c *central.Config) { c.MaxRequestBytes = 4<<10 - 1 },
			func(c *central.Config) { c.MaxRequestBytes = c.MaxBodyBytes + 1 },
		}},
		{"central.max_concurrent", []edit{
			func(c *central.Config) { c.MaxConcurrent, c.MaxConcurrentPerDevice = 1, 1 },
			func(c *central.Config) { c.MaxConcurrentPerDevice = c.MaxConcurrent },
		}, []edit{
			func(c *central.Config) { c.MaxConcurrent, c.MaxConcurrentPerDevice = 0, 0 },
			func(c *central.Config) { c.MaxConcurrentPerDevice = 0 },
			func(c *central.Config) { c.MaxConcurrentPerDevice = c.MaxConcurrent + 1 },
		}},
		{"central.read_header_timeout", []edit{
			func(c *central.Config) { c.ReadHeaderTimeout, c.IdleTimeout = time.Second, time.Second },
			func(c *central.Config) { c.ReadTimeout = c.ReadHeaderTimeout },
		}, []edit{
			func(c *central.Config) { c.ReadHeaderTimeout = time.Second - 1 },
			func(c *central.Config) { c.IdleTimeout = time.Second - 1 },
			func(c *central.Config) { c.ReadTimeout = c.ReadHeaderTimeout - 1 },
		}},
		{"central.write_timeout", []edit{
			func(c *central.Config) { c.WriteTimeout = c.MaxLongPoll + 10*time.Second },
		}, []edit{
			func(c *central.Config) { c.WriteTimeout = c.MaxLongPoll + 10*time.Second - 1 },
		}},
		{"central.body_grace", []edit{
			func(c *central.Config) { c.BodyGrace, c.BodyMinRate = 100*time.Millisecond, 1024 },
		}, []edit{
			func(c *central.Config) { c.BodyGrace = 100*time.Millisecond - 1 },
			func(c *central.Config) { c.BodyMinRate = 1023 },
		}},
		{"central.late_delivery_grace", []edit{
			func(c *central.Config) { c.LateDeliveryGrace = 0 },
		}, []edit{
			func(c *central.Config) { c.LateDeliveryGrace = -1 },
		}},
		{"central.duplicate_target_far", []edit{
			func(c *central.Config) { c.DuplicateTargetFAR = 0.5 },
			func(c *central.Config) { c.DuplicateTargetFAR = 1e-12 },
		}, []edit{
			func(c *central.Config) { c.DuplicateTargetFAR = 0 },
			func(c *central.Config) { c.DuplicateTargetFAR = 0.5000001 },
		}},
		{"central.enrol_attempts", []edit{
			func(c *central.Config) { c.EnrolAttempts, c.EnrolWindow = 1, time.Second },
		}, []edit{
			func(c *central.Config) { c.EnrolAttempts = 0 },
			func(c *central.Config) { c.EnrolWindow = time.Second - 1 },
		}},
		{"central.qr_ttl", []edit{
			func(c *central.Config) { c.QRTTL = 10 * time.Second },
			func(c *central.Config) { c.QRTTL = 10 * time.Minute },
		}, []edit{
			func(c *central.Config) { c.QRTTL = 10*time.Second - 1 },
			func(c *central.Config) { c.QRTTL = 10*time.Minute + 1 },
		}},
		{"central.max_long_poll", []edit{
			func(c *central.Config) { c.MaxLongPoll = time.Second },
			func(c *central.Config) { c.MaxLongPoll, c.WriteTimeout = 2*time.Minute, 3*time.Minute },
		}, []edit{
			func(c *central.Config) { c.MaxLongPoll = time.Second - 1 },
			func(c *central.Config) { c.MaxLongPoll, c.WriteTimeout = 2*time.Minute+1, 3*time.Minute },
		}},
		{"central.payment_window", []edit{
			func(c *central.Config) { c.PaymentWindow = time.Minute },
		}, []edit{
			func(c *central.Config) { c.PaymentWindow = time.Minute - 1 },
		}},
		{"central.enrolment_code_ttl", []edit{
			func(c *central.Config) { c.EnrolmentCodeTTL = time.Minute },
		}, []edit{
			func(c *central.Config) { c.EnrolmentCodeTTL = time.Minute - 1 },
		}},
		{"central.session_ttl", []edit{
			func(c *central.Config) { c.SessionTTL = 5 * time.Minute },
			func(c *central.Config) { c.SessionTTL = 24 * time.Hour },
		}, []edit{
			func(c *central.Config) { c.SessionTTL = 5*time.Minute - 1 },
			func(c *central.Config) { c.SessionTTL = 24*time.Hour + 1 },
		}},
	} {
		t.Run(tc.key, func(t *testing.T) {
			for i, e := range tc.ok {
				c := central.DefaultConfig()
				e(&c)
				if err := c.Validate(); err != nil {
					t.Errorf("at the limit %d: %v", i, err)
				}
			}
			for i, e := range tc.bad {
				c := central.DefaultConfig()
				e(&c)
				if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.key) {
					t.Errorf("past the limit %d: %v, want an error naming %s", i, err, tc.key)
				}
			}
		})
	}
}
