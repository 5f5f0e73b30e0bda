package demo

import "testing"

func TestConfigValid(t *testing.T) {
	t.Setenv("EXAMKIOSK_MODELS", "/abs/models")
	if err := Config().Validate(); err != nil {
		t.Fatal(err)
	}
}
