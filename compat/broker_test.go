package compat

import (
	"testing"

	"github.com/samsa-io/samsa/samsatest"
)

// startBroker starts the Samsa node every test in this package runs
// against and returns its bootstrap address ("127.0.0.1:port"); it stops
// with the test.
func startBroker(t *testing.T) string {
	t.Helper()
	return samsatest.Start(t).Addr()
}
