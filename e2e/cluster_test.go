package e2e

import (
	"fmt"
	"os/exec"
	"regexp"
	"slices"
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

// Dedicated roles, as a production cluster runs: three controller-only
// processes form the quorum and two broker-only processes hold the data,
// one given the voters, the other only a bootstrap server to find them
// (controller.quorum.bootstrap.servers). kcat lists the two brokers only;
// records produced with kcat through one broker are consumed with kcat
// through the other.
func TestDedicatedControllersAndBrokers(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat is not installed (make deps installs it): %v", err)
	}
	ctl := []*server{newServer(t), newServer(t), newServer(t)}
	var voters []string
	for i, s := range ctl {
		voters = append(voters, fmt.Sprintf("%d@%s", i+1, s.addr()))
	}
	quorum := "controller.quorum.voters=" + strings.Join(voters, ",")
	for i, s := range ctl {
		s.args = []string{"--override", fmt.Sprintf("node.id=%d", i+1), "--override", "process.roles=controller",
			"--override", "listeners=CONTROLLER://" + s.addr(), "--override", quorum}
		s.start()
	}
	brokers := []*server{newServer(t), newServer(t)}
	find := []string{quorum, "controller.quorum.bootstrap.servers=" + ctl[1].addr()}
	for i, s := range brokers {
		s.args = []string{"--override", fmt.Sprintf("node.id=%d", i+4), "--override", "process.roles=broker",
			"--override", "listeners=PLAINTEXT://" + s.addr(), "--override", find[i]}
		s.start()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(clusterAddrs(brokers)...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	awaitBrokers(t, cl, 2)
	if r, err := kadm.NewClient(cl).CreateTopic(ctxFor(t, 30*time.Second), 2, 2, nil, "split"); err != nil || r.Err != nil {
		t.Fatalf("create: %v %v", err, r.Err)
	}

	out, err := exec.Command(kcat, "-b", brokers[0].addr(), "-L").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat -L: %v\n%s", err, out)
	}
	listed := regexp.MustCompile(`broker (\d+) at`).FindAllStringSubmatch(string(out), -1)
	if len(listed) != 2 || listed[0][1]+listed[1][1] != "45" && listed[0][1]+listed[1][1] != "54" {
		t.Fatalf("kcat -L lists brokers %v, want 4 and 5:\n%s", listed, out)
	}

	var in strings.Builder
	for i := range 50 {
		fmt.Fprintf(&in, "record-%d\n", i)
	}
	produce := exec.Command(kcat, "-b", brokers[0].addr(), "-P", "-t", "split", "-X", "acks=all")
	produce.Stdin = strings.NewReader(in.String())
	if out, err := produce.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}
	// -q and stdout only: kcat reports reaching a partition's end on stderr.
	consume := exec.Command(kcat, "-q", "-b", brokers[1].addr(), "-C", "-t", "split", "-o", "beginning", "-c", "50", "-e")
	var stderr strings.Builder
	consume.Stderr = &stderr
	if out, err = consume.Output(); err != nil {
		t.Fatalf("kcat -C: %v\n%s%s", err, out, stderr.String())
	}
	got := strings.Fields(string(out))
	slices.Sort(got)
	want := strings.Fields(in.String())
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("kcat consumed %d records %v, want the 50 produced", len(got), got)
	}
}
