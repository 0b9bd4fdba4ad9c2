package broker

import (
	"strings"
	"testing"
)

// process.roles, controller.quorum.voters and listeners must agree: a
// controller is a voter with a controller listener, a broker-only node is
// no voter, has none, and needs the voters to find the quorum.
func TestClusterConfigRoles(t *testing.T) {
	const voters = "1@127.0.0.1:9193,2@127.0.0.1:9194,3@127.0.0.1:9195"
	for _, tc := range []struct {
		name  string
		props map[string]string
		roles Roles
		err   string // a part of the error; "" for none
	}{
		{name: "default, one node", props: map[string]string{},
			roles: Roles{Broker: true, Controller: true}},
		{name: "combined voter", props: map[string]string{"node.id": "1", "controller.quorum.voters": voters,
			"listeners": "PLAINTEXT://:9092,CONTROLLER://127.0.0.1:9193"},
			roles: Roles{Broker: true, Controller: true}},
		{name: "controller only", props: map[string]string{"node.id": "2", "process.roles": "controller",
			"controller.quorum.voters": voters, "listeners": "CONTROLLER://127.0.0.1:9194"},
			roles: Roles{Controller: true}},
		{name: "broker only", props: map[string]string{"node.id": "4", "process.roles": "broker",
			"controller.quorum.voters": voters, "listeners": "PLAINTEXT://:9096"},
			roles: Roles{Broker: true}},
		{name: "broker only with a single controller", props: map[string]string{"node.id": "4", "process.roles": "broker",
			"controller.quorum.voters": "1@127.0.0.1:9193", "listeners": "PLAINTEXT://:9096"},
			roles: Roles{Broker: true}},
		{name: "broker only without voters", props: map[string]string{"node.id": "4", "process.roles": "broker",
			"listeners": "PLAINTEXT://:9096"},
			err: "needs controller.quorum.voters or controller.quorum.bootstrap.servers"},
		{name: "broker only with bootstrap servers", props: map[string]string{"node.id": "4", "process.roles": "broker",
			"controller.quorum.bootstrap.servers": "127.0.0.1:9193", "listeners": "PLAINTEXT://:9096"},
			roles: Roles{Broker: true}},
		{name: "controller with bootstrap servers only", props: map[string]string{"node.id": "1",
			"controller.quorum.bootstrap.servers": "127.0.0.1:9193", "listeners": "PLAINTEXT://:9092,CONTROLLER://127.0.0.1:9193"},
			err: "dynamic quorums (KIP-853) are not supported"},
		{name: "broker only listed as a voter", props: map[string]string{"node.id": "1", "process.roles": "broker",
			"controller.quorum.voters": voters, "listeners": "PLAINTEXT://:9096"},
			err: "which has no controller role"},
		{name: "broker only with a controller listener", props: map[string]string{"node.id": "4", "process.roles": "broker",
			"controller.quorum.voters": voters, "listeners": "PLAINTEXT://:9096,CONTROLLER://:9197"},
			err: "must not contain a value appearing in the 'listeners'"},
		{name: "controller not listed", props: map[string]string{"node.id": "7", "process.roles": "controller",
			"controller.quorum.voters": voters, "listeners": "CONTROLLER://127.0.0.1:9194"},
			err: "does not list this node"},
		{name: "controller without a controller listener", props: map[string]string{"node.id": "2", "process.roles": "controller",
			"controller.quorum.voters": voters, "listeners": "PLAINTEXT://:9092"},
			err: "must contain at least one value appearing in the 'listeners'"},
		{name: "broker only with node.id 0", props: map[string]string{"node.id": "0", "process.roles": "broker",
			"controller.quorum.voters": voters, "listeners": "PLAINTEXT://:9096"},
			err: "node.id 0"},
		{name: "unknown role", props: map[string]string{"process.roles": "observer"},
			err: "process.roles"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			props := map[string]string{"log.dirs": t.TempDir()}
			for k, v := range tc.props {
				props[k] = v
			}
			cfg, err := FromProperties(props)
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one with %q", err, tc.err)
			case tc.err == "" && err != nil:
				t.Fatal(err)
			case tc.err == "" && cfg.Roles != tc.roles:
				t.Fatalf("roles %+v, want %+v", cfg.Roles, tc.roles)
			}
		})
	}
}
