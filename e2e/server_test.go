package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// An unknown key or an invalid value stops the start with an error that
// names it (and suggests the key meant).
func TestBadConfigStopsTheStart(t *testing.T) {
	props := filepath.Join(t.TempDir(), "server.properties")
	os.WriteFile(props, []byte("log.retention.hour=5\n"), 0o644)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--override", "num.partitionz=3"}, []string{"num.partitionz", "num.partitions"}},
		{[]string{"--override", "num.partitions=many"}, []string{"num.partitions", "many"}},
		{[]string{"--override", "retention.ms=5"}, []string{"retention.ms", "log.retention.ms"}},
		{[]string{"--config", props}, []string{"log.retention.hour", "log.retention.hours"}},
		{[]string{"--override", "oops"}, []string{"key=value"}},
	} {
		cmd := exec.Command(samsaBin, append([]string{"server", "--override", "log.dirs=" + t.TempDir()}, c.args...)...)
		out, err := runWithTimeout(cmd, 10*time.Second)
		if err == nil {
			t.Fatalf("%v: started anyway", c.args)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output does not mention %q:\n%s", c.args, w, out)
			}
		}
	}
}

func runWithTimeout(cmd *exec.Cmd, d time.Duration) (string, error) {
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		return out.String(), nil
	}
}

// SIGINT stops the server cleanly: it exits 0 and its checkpoints hold
// the log end, so the next start has nothing to recover.
func TestCleanShutdownCheckpoints(t *testing.T) {
	s := newServer(t)
	s.start()
	ctx := ctxFor(t, 20*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr()), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	for range 25 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "clean", Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	s.stop()
	cp, err := os.ReadFile(filepath.Join(s.dir, "data", "recovery-point-offset-checkpoint"))
	if err != nil || !strings.Contains(string(cp), "clean 0 25\n") {
		t.Fatalf("recovery point checkpoint after SIGINT: %v\n%s", err, cp)
	}
	s.start()
	adm, err := kadm.NewOptClient(kgo.SeedBrokers(s.addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	end, err := adm.ListEndOffsets(ctx, "clean")
	if l, _ := end.Lookup("clean", 0); err != nil || l.Offset != 25 {
		t.Fatalf("end offset after restart: %d %v", l.Offset, err)
	}
	if strings.Contains(s.logs.String(), "recovered a partition log") {
		t.Fatalf("a clean restart recovered something:\n%s", s.logs)
	}
}
