package e2e

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// startCluster runs n `samsa server` processes forming one cluster: node
// ids 1..n, every node a voter, controller listeners on free ports.
func startCluster(t *testing.T, n int, extra ...string) []*server {
	t.Helper()
	nodes := make([]*server, n)
	ctl := make([]int, n)
	var voters []string
	for i := range n {
		nodes[i], ctl[i] = newServer(t), freePort(t)
		voters = append(voters, fmt.Sprintf("%d@127.0.0.1:%d", i+1, ctl[i]))
	}
	for i, s := range nodes {
		s.args = append([]string{
			"--override", fmt.Sprintf("node.id=%d", i+1),
			"--override", fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d", s.port, ctl[i]),
			"--override", "controller.quorum.voters=" + strings.Join(voters, ","),
		}, extra...)
		s.start()
	}
	return nodes
}

func clusterAddrs(nodes []*server) []string {
	out := make([]string, len(nodes))
	for i, s := range nodes {
		out[i] = s.addr()
	}
	return out
}

// awaitBrokers waits until Metadata lists n brokers. It asks a broker
// each time: kadm answers from the client's cache.
func awaitBrokers(t *testing.T, cl *kgo.Client, n int) {
	t.Helper()
	ctx := ctxFor(t, 30*time.Second)
	for {
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
		if err == nil && len(resp.Brokers) == n {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("Metadata never listed %d brokers (last: %v, %v)", n, resp, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The README's cluster: three processes; a topic of replication factor 3
// shows its leader and ISR in kcat -L, as in Metadata.
func TestClusterShowsLeaderAndISRInKcat(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat is not installed (make deps installs it): %v", err)
	}
	nodes := startCluster(t, 3)
	addrs := clusterAddrs(nodes)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	awaitBrokers(t, cl, 3)
	ctx := ctxFor(t, 30*time.Second)
	if r, err := adm.CreateTopic(ctx, 3, 3, nil, "orders"); err != nil || r.Err != nil {
		t.Fatalf("create: %v %v", err, r.Err)
	}
	// The broker kcat asks may apply the new topic a moment after the
	// controller committed it.
	re := regexp.MustCompile(`partition (\d+), leader (\d+), replicas: ([\d,]+), isrs: ([\d,]+)`)
	var out []byte
	var parts [][]string
	for deadline := time.Now().Add(10 * time.Second); len(parts) != 3 && time.Now().Before(deadline); {
		if out, err = exec.Command(kcat, "-b", strings.Join(addrs, ","), "-L", "-t", "orders").CombinedOutput(); err != nil {
			t.Fatalf("kcat -L: %v\n%s", err, out)
		}
		parts = re.FindAllStringSubmatch(string(out), -1)
	}
	if len(parts) != 3 {
		t.Fatalf("kcat shows %d partitions, want 3:\n%s", len(parts), out)
	}
	if !strings.Contains(string(out), " 3 brokers:") {
		t.Errorf("kcat does not list 3 brokers:\n%s", out)
	}
	for _, p := range parts {
		replicas, isr := strings.Split(p[3], ","), strings.Split(p[4], ",")
		if len(replicas) != 3 || len(isr) != 3 || p[2] != replicas[0] {
			t.Errorf("partition %s: leader %s replicas %v isr %v; want 3 replicas in the ISR led by the first", p[1], p[2], replicas, isr)
		}
	}
}
