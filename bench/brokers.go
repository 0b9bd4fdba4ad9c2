package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/samsa-io/samsa/internal/testport"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Broker names.
const (
	samsa = "Samsa"
	kfake = "kfake"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat: 100
// on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// broker is a broker process under test.
type broker struct {
	name string
	cmd  *exec.Cmd
	addr string
	dir  string // Samsa's data directory, removed at stop
	log  string // the process's output
	done chan error
	// profileDir, when set, receives a perf(1) profile of each measured
	// Samsa run.
	profileDir string
}

// startBroker starts name's binary from bins on a free port (Samsa on a
// new data directory under dataRoot) and waits until it answers.
func startBroker(name string, bins map[string]string, dataRoot, logDir string) (*broker, error) {
	port, err := testport.Port()
	if err != nil {
		return nil, err
	}
	b := &broker{name: name, addr: fmt.Sprintf("127.0.0.1:%d", port), done: make(chan error, 1)}
	switch name {
	case samsa:
		if b.dir, err = os.MkdirTemp(dataRoot, ".bench-samsa-"); err != nil {
			return nil, err
		}
		b.cmd = exec.Command(bins[samsa], "server",
			"--override", "log.dirs="+b.dir,
			"--override", fmt.Sprintf("listeners=PLAINTEXT://%s,CONTROLLER://127.0.0.1:0", b.addr),
			"--override", "metrics.listen=127.0.0.1:0")
	case kfake:
		b.cmd = exec.Command(bins[kfake], "-port", strconv.Itoa(port), "-partitions", "3")
	}
	b.log = filepath.Join(logDir, fmt.Sprintf("%s-%d.log", strings.ToLower(name), port))
	out, err := os.Create(b.log)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	b.cmd.Stdout, b.cmd.Stderr = out, out
	if err := b.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { b.done <- b.cmd.Wait() }()
	if err := b.waitReady(30 * time.Second); err != nil {
		b.stop()
		return nil, fmt.Errorf("%s did not start (log: %s): %w", name, b.log, err)
	}
	return b, nil
}

// waitReady waits until the broker answers a metadata request.
func (b *broker) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case err := <-b.done:
			b.done <- err
			return fmt.Errorf("exited: %v", err)
		default:
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr), kgo.DialTimeout(time.Second))
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err = cl.Ping(ctx)
			cancel()
			cl.Close()
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// createTopic creates topic with 3 partitions, replication factor 1.
func (b *broker) createTopic(topic string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, err = kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic)
	return err
}

// cpu is the broker process's user plus system CPU time so far.
func (b *broker) cpu() (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", b.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(raw))
}

// selfCPU is this process's user plus system CPU time so far.
func selfCPU() (time.Duration, error) {
	raw, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(raw))
}

// parseStatCPU reads utime and stime (fields 14 and 15) from a
// /proc/PID/stat line; the command name (field 2) may hold spaces, so
// fields are counted after its closing parenthesis.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("bench: malformed /proc stat")
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, errors.New("bench: short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// stop ends the broker (SIGTERM, then SIGKILL after 20 s) and removes its
// data.
func (b *broker) stop() {
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(20 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
	}
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

// profile starts `perf record` on a Samsa broker when profiling; the
// returned func stops it and waits for the file.
func (b *broker) profile(name string) (func(), error) {
	if b.profileDir == "" || b.name != samsa {
		return func() {}, nil
	}
	out := filepath.Join(b.profileDir, fmt.Sprintf("%s-%d.perf.data", name, b.cmd.Process.Pid))
	cmd := exec.Command("perf", "record", "-F", "499", "-g", "-p", strconv.Itoa(b.cmd.Process.Pid), "-o", out)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("perf record (apt-get install linux-perf): %w", err)
	}
	time.Sleep(200 * time.Millisecond) // attached before the run starts
	return func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		fmt.Printf("  profile: perf report -i %s\n", out)
	}, nil
}
