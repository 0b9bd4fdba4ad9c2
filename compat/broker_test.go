package compat

import (
	"testing"

	"github.com/samsa-io/samsa/samsatest"
)

// startBroker starts the Samsa node a client's round trips and group runs
// use and returns its bootstrap address ("127.0.0.1:port"); it stops with
// the test. Every config is at its default but one, as in Kafka's own
// integration tests: no initial rebalance delay, which would add 3 s to
// each of a test's two group runs.
func startBroker(t *testing.T) string {
	t.Helper()
	return samsatest.Start(t, samsatest.WithProps(map[string]string{
		"group.initial.rebalance.delay.ms": "0",
	})).Addr()
}

// startDefaultBroker starts a node with every config at its default, for
// the tests that mean to meet them (TestKafkajsGroup, the churn tests).
func startDefaultBroker(t *testing.T) string {
	t.Helper()
	return samsatest.Start(t).Addr()
}
