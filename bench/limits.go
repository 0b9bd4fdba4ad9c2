package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// limits are the machine's limits as scripts/machine-limits.sh printed
// them.
type limits struct {
	Text string `json:"text"` // the script's output
	// LoopbackMBps is one loopback TCP stream (iperf3), in MB/s.
	LoopbackMBps float64 `json:"loopback_mbps"`
	// SeqWriteMBps is sequential 1 MiB writes plus fsync (fio).
	SeqWriteMBps float64 `json:"seq_write_mbps"`
}

// measureLimits runs the script (on the file system of the repository,
// where Samsa's benchmark data goes too), echoing its output.
func measureLimits() (limits, error) {
	var out bytes.Buffer
	cmd := exec.Command("scripts/machine-limits.sh")
	cmd.Stdout = io.MultiWriter(os.Stdout, &out)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return limits{}, fmt.Errorf("scripts/machine-limits.sh: %w", err)
	}
	return parseLimits(out.String())
}

var (
	loopbackRe = regexp.MustCompile(`loopback TCP.*: ([0-9.]+) GB/s`)
	seqWriteRe = regexp.MustCompile(`sequential write.*: ([0-9.]+) MB/s`)
)

func parseLimits(text string) (limits, error) {
	l := limits{Text: strings.TrimSpace(text)}
	m := loopbackRe.FindStringSubmatch(text)
	s := seqWriteRe.FindStringSubmatch(text)
	if m == nil || s == nil {
		return l, fmt.Errorf("machine-limits.sh printed no loopback or sequential write figure:\n%s", text)
	}
	gb, _ := strconv.ParseFloat(m[1], 64)
	l.LoopbackMBps = gb * 1000
	l.SeqWriteMBps, _ = strconv.ParseFloat(s[1], 64)
	return l, nil
}

// markdown returns the script's lines as a list, the heading line as the
// list's lead.
func (l limits) markdown() string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(l.Text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "installing"):
		case strings.HasPrefix(line, "## "):
			fmt.Fprintf(&b, "%s:\n\n", strings.TrimPrefix(line, "## "))
		default:
			fmt.Fprintf(&b, "- %s\n", line)
		}
	}
	return b.String()
}
