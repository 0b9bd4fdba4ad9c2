package txn

import (
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/scripttest"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt")

// TestScripts runs testdata/*.txt (see package scripttest); -rewrite
// regenerates the expected output.
func TestScripts(t *testing.T) {
	scripttest.Run(t, *rewrite, func() scripttest.Command { return newHarness().run })
}

// run executes one command and returns its output.
func (h *harness) run(t *testing.T, where, line string) string {
	fields := strings.Fields(line)
	cmd, a := fields[0], parseArgs(fields[1:])
	if s, ok := h.query(cmd, a); ok {
		return s
	}
	fx, responses, err := h.exec(cmd, fields, a)
	if err == nil {
		err = h.apply(fx, responses)
	}
	if err != nil {
		t.Fatalf("%s: %s: %v", where, line, err)
	}
	return h.show(fx)
}

// query runs the commands that only read.
func (h *harness) query(cmd string, a args) (string, bool) {
	switch cmd {
	case "state":
		t := h.s.txns[a.str("id", "t")]
		if t == nil {
			return "(none)", true
		}
		return h.showTxn(t), true
	case "describe":
		d := h.s.Describe(a.str("id", "t"))
		if d.ErrorCode != 0 {
			return "describe: " + codeName(d.ErrorCode), true
		}
		var ts []string
		for _, dt := range d.Topics {
			ts = append(ts, fmt.Sprintf("%s%v", dt.Topic, dt.Partitions))
		}
		return fmt.Sprintf("describe %s: %s pid=%d epoch=%d timeout=%d start=%s topics=%v", d.TransactionalID, d.State,
			d.ProducerID, d.ProducerEpoch, d.TimeoutMillis, h.rel(d.StartTimestamp), ts), true
	case "list":
		ls, unknown := h.s.List(h.now, a.filter())
		var out []string
		for _, l := range ls {
			out = append(out, fmt.Sprintf("%s %s pid=%d", l.TransactionalID, l.TransactionState, l.ProducerID))
		}
		if len(unknown) > 0 {
			out = append(out, fmt.Sprintf("unknown states: %v", unknown))
		}
		if len(out) == 0 {
			return "(none)", true
		}
		return strings.Join(out, "\n"), true
	}
	return "", false
}

// exec runs a command that may change the state; it returns the effects
// and how many responses they must hold.
func (h *harness) exec(cmd string, fields []string, a args) (Effects, int, error) {
	switch cmd {
	case "config":
		cfg := DefaultConfig()
		cfg.TransactionVersion = int16(a.int("tv", 2))
		cfg.MaxTimeout = time.Duration(a.int("maxtimeout", cfg.MaxTimeout.Milliseconds())) * time.Millisecond
		h.reset(cfg)
		return Effects{}, 0, nil
	case "advance", "tick":
		d, err := time.ParseDuration(fields[1])
		if err != nil {
			return Effects{}, 0, err
		}
		h.now = h.now.Add(d)
		if cmd == "tick" {
			return h.s.Tick(h.now), 0, nil
		}
		return Effects{}, 0, nil
	case "timeouts":
		return h.s.AbortTimedOut(h.now), 0, nil
	case "cleanup":
		return h.s.Cleanup(h.now), 0, nil
	case "restart":
		fx, err := h.restart()
		return fx, 0, err
	case "load":
		// A record as a log could hold it (one written long ago), then a
		// restart to read it.
		t := &txnMeta{id: a.str("id", "t"), producerID: a.int("pid", 1000), prevProducerID: a.int("prev", -1),
			nextProducerID: -1, epoch: int16(a.int("epoch", 0)), timeoutMs: 60000, state: Empty,
			startMs: -1, updateMs: h.now.UnixMilli(), tv: 2}
		h.records = append(h.records, t.record(h.cfg.TransactionVersion))
		fx, err := h.restart()
		return fx, 0, err
	case "alloc":
		h.ids.fail = a.str("fail", "false") == "true"
		return Effects{}, 0, nil
	case "ack":
		return h.ack(a.str("id", ""), a.parts(), a.code(), a.str("gone", "") == "true"), 0, nil
	}
	h.handles++
	return h.request(cmd, a), 1, nil
}

func (h *harness) request(cmd string, a args) Effects {
	id := a.str("id", "t")
	pid, epoch, v := a.int("pid", -1), int16(a.int("epoch", -1)), int16(a.int("v", 5))
	switch cmd {
	case "init":
		req := kmsg.NewPtrInitProducerIDRequest()
		req.Version, req.TransactionalID = v, &id
		req.TransactionTimeoutMillis = int32(a.int("timeout", 60000))
		req.ProducerID, req.ProducerEpoch = pid, epoch
		return h.s.InitProducerID(h.now, h.handles, req)
	case "add":
		rt := kmsg.NewAddPartitionsToTxnRequestTransaction()
		rt.TransactionalID, rt.ProducerID, rt.ProducerEpoch = id, pid, epoch
		rt.VerifyOnly = a.str("verify", "") == "true"
		for _, tp := range a.parts() {
			if n := len(rt.Topics); n == 0 || rt.Topics[n-1].Topic != tp.Topic {
				rt.Topics = append(rt.Topics, kmsg.AddPartitionsToTxnRequestTransactionTopic{Topic: tp.Topic})
			}
			last := &rt.Topics[len(rt.Topics)-1]
			last.Partitions = append(last.Partitions, tp.Partition)
		}
		return h.s.AddPartitions(h.now, h.handles, v, rt)
	case "offsets":
		req := kmsg.NewPtrAddOffsetsToTxnRequest()
		req.Version, req.TransactionalID, req.ProducerID, req.ProducerEpoch = v, id, pid, epoch
		req.Group = a.str("g", "g")
		return h.s.AddOffsets(h.now, h.handles, req, int32(a.int("p", 0)))
	case "end":
		req := kmsg.NewPtrEndTxnRequest()
		req.Version, req.TransactionalID, req.ProducerID, req.ProducerEpoch = v, id, pid, epoch
		req.Commit = a.str("commit", "") == "true"
		return h.s.EndTxn(h.now, h.handles, req)
	}
	panic("unknown command " + cmd)
}
