package txn

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// counter is a producer id allocator for tests; fail makes Next fail.
type counter struct {
	next int64
	fail bool
}

func (c *counter) Next() (int64, error) {
	if c.fail {
		return 0, errors.New("no producer id block yet")
	}
	c.next++
	return c.next - 1, nil
}

// harness drives a Shard: a virtual clock, every record kept for replay,
// the markers sent and not yet acknowledged, and invariant checks after
// every operation.
type harness struct {
	cfg     Config
	ids     *counter
	s       *Shard
	cepoch  int32
	start   time.Time
	now     time.Time
	records []Record
	handles Handle
	markers []Marker // sent, not acknowledged
	inv     invariants
}

func newHarness() *harness {
	h := &harness{start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.now = h.start
	h.reset(DefaultConfig())
	return h
}

func (h *harness) reset(cfg Config) {
	h.ids = &counter{next: 1000}
	cfg.ProducerIDs = h.ids
	h.cfg, h.cepoch = cfg, 1
	h.s = NewShard(cfg, h.cepoch)
	h.records, h.markers = nil, nil
	h.inv = newInvariants()
}

// apply takes an operation's effects: records are kept, markers are
// outstanding until acknowledged, wantResponses responses must come, and
// the invariants must hold.
func (h *harness) apply(fx Effects, wantResponses int) error {
	h.records = append(h.records, fx.Records...)
	h.markers = append(h.markers, fx.Markers...)
	if len(fx.Responses) != wantResponses {
		return fmt.Errorf("%d responses, want %d", len(fx.Responses), wantResponses)
	}
	for _, r := range fx.Responses {
		if r.Handle != h.handles {
			return fmt.Errorf("response to handle %d, want %d", r.Handle, h.handles)
		}
	}
	return h.inv.check(h.s, fx, h.cfg, h.records)
}

// restart rebuilds the shard from the records at a new coordinator epoch;
// markers in flight are lost with the old coordinator.
func (h *harness) restart() (Effects, error) {
	h.cepoch++
	h.s = NewShard(h.cfg, h.cepoch)
	for _, r := range h.records {
		if err := h.s.Replay(r.Key, r.Value); err != nil {
			return Effects{}, err
		}
	}
	h.markers = nil
	return h.s.Loaded(h.now), nil
}

// ack acknowledges the outstanding markers that match id and parts (all
// when empty) with code, or as gone.
func (h *harness) ack(id string, parts []TopicPartition, code int16, gone bool) Effects {
	var results []MarkerResult
	var keep []Marker
	for _, m := range h.markers {
		var rest []TopicPartition
		for _, tp := range m.Partitions {
			if (id != "" && m.TransactionalID != id) || (len(parts) > 0 && !slices.Contains(parts, tp)) {
				rest = append(rest, tp)
				continue
			}
			results = append(results, MarkerResult{
				TransactionalID: m.TransactionalID, ProducerID: m.ProducerID, ProducerEpoch: m.ProducerEpoch,
				Partition: tp, ErrorCode: code, Gone: gone,
			})
		}
		if len(rest) > 0 {
			m.Partitions = rest
			keep = append(keep, m)
		}
	}
	h.markers = keep
	return h.s.MarkersWritten(h.now, results)
}

func (h *harness) rel(ms int64) string {
	if ms < 0 {
		return strconv.FormatInt(ms, 10)
	}
	return "+" + time.UnixMilli(ms).Sub(h.start).String()
}

// show renders effects for the scripts.
func (h *harness) show(fx Effects) string {
	var lines []string
	for _, r := range fx.Records {
		lines = append(lines, h.showRecord(r))
	}
	for _, m := range fx.Markers {
		lines = append(lines, showMarker(m))
	}
	for _, r := range fx.Responses {
		lines = append(lines, showResponse(r.Msg))
	}
	lines = append(lines, fx.Warnings...)
	if len(lines) == 0 {
		return "(nothing)"
	}
	return strings.Join(lines, "\n")
}

func (h *harness) showRecord(r Record) string {
	var k kmsg.TxnMetadataKey
	if err := k.ReadFrom(r.Key); err != nil {
		return "bad key: " + err.Error()
	}
	if r.Value == nil {
		return "record " + k.TransactionalID + ": tombstone"
	}
	t, err := decodeValue(k.TransactionalID, r.Value)
	if err != nil {
		return "bad value: " + err.Error()
	}
	return "record " + h.showTxn(t)
}

func (h *harness) showTxn(t *txnMeta) string {
	var ps []string
	for _, tp := range t.sortedPartitions() {
		ps = append(ps, fmt.Sprintf("%s-%d", tp.Topic, tp.Partition))
	}
	s := fmt.Sprintf("%s: %s pid=%d epoch=%d tv=%d parts=[%s] start=%s", t.id, t.state, t.producerID, t.epoch, t.tv,
		strings.Join(ps, " "), h.rel(t.startMs))
	if t.prevProducerID != t.producerID {
		s += fmt.Sprintf(" prev=%d", t.prevProducerID)
	}
	if t.nextProducerID != noID {
		s += fmt.Sprintf(" next=%d", t.nextProducerID)
	}
	return s
}

func showMarker(m Marker) string {
	kind := "ABORT"
	if m.Commit {
		kind = "COMMIT"
	}
	var ps []string
	for _, tp := range m.Partitions {
		ps = append(ps, fmt.Sprintf("%s-%d", tp.Topic, tp.Partition))
	}
	return fmt.Sprintf("marker %s: %s pid=%d epoch=%d coordinator-epoch=%d tv=%d [%s]",
		m.TransactionalID, kind, m.ProducerID, m.ProducerEpoch, m.CoordinatorEpoch, m.TransactionVersion, strings.Join(ps, " "))
}

func codeName(c int16) string {
	if c == 0 {
		return "NONE"
	}
	if e := kerr.ErrorForCode(c); e != nil {
		var ke *kerr.Error
		if errors.As(e, &ke) {
			return ke.Message
		}
	}
	return strconv.Itoa(int(c))
}

func showResponse(msg kmsg.Response) string {
	switch r := msg.(type) {
	case *kmsg.InitProducerIDResponse:
		if r.ErrorCode != 0 {
			return "init: " + codeName(r.ErrorCode)
		}
		return fmt.Sprintf("init: pid=%d epoch=%d", r.ProducerID, r.ProducerEpoch)
	case *kmsg.EndTxnResponse:
		if r.Version >= 5 && r.ErrorCode == 0 {
			return fmt.Sprintf("end: NONE pid=%d epoch=%d", r.ProducerID, r.ProducerEpoch)
		}
		return "end: " + codeName(r.ErrorCode)
	case *kmsg.AddOffsetsToTxnResponse:
		return "offsets: " + codeName(r.ErrorCode)
	case *kmsg.AddPartitionsToTxnResponse:
		return "add: " + showAdd(r)
	}
	return fmt.Sprintf("%T", msg)
}

func showAdd(r *kmsg.AddPartitionsToTxnResponse) string {
	codes := map[string]int16{}
	if r.Version >= 4 {
		for _, t := range r.Transactions {
			for _, tt := range t.Topics {
				for _, p := range tt.Partitions {
					codes[fmt.Sprintf("%s-%d", tt.Topic, p.Partition)] = p.ErrorCode
				}
			}
		}
	} else {
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				codes[fmt.Sprintf("%s-%d", t.Topic, p.Partition)] = p.ErrorCode
			}
		}
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(codes)) {
		out = append(out, k+"="+codeName(codes[k]))
	}
	return strings.Join(out, " ")
}

// args are a command's key=value arguments; a bare word is key=true.
type args map[string]string

func parseArgs(fields []string) args {
	a := args{}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			v = "true"
		}
		a[k] = v
	}
	return a
}

func (a args) str(k, def string) string {
	if v, ok := a[k]; ok {
		return v
	}
	return def
}

func (a args) int(k string, def int64) int64 {
	v, ok := a[k]
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		panic(fmt.Sprintf("%s=%s: %v", k, v, err))
	}
	return n
}

func (a args) parts() []TopicPartition {
	var tps []TopicPartition
	for _, p := range strings.Split(a.str("parts", ""), ",") {
		if p == "" {
			continue
		}
		i := strings.LastIndex(p, "-")
		n, _ := strconv.Atoi(p[i+1:])
		tps = append(tps, TopicPartition{Topic: p[:i], Partition: int32(n)})
	}
	return tps
}

func (a args) code() int16 {
	name := a.str("code", "NONE")
	if name == "NONE" {
		return 0
	}
	for c := int16(1); c < 200; c++ {
		if codeName(c) == name {
			return c
		}
	}
	panic("unknown error " + name)
}

func (a args) filter() ListFilter {
	f := ListFilter{MinDuration: -1}
	if s := a.str("states", ""); s != "" {
		f.States = strings.Split(s, ",")
	}
	if s := a.str("pids", ""); s != "" {
		for _, p := range strings.Split(s, ",") {
			n, _ := strconv.ParseInt(p, 10, 64)
			f.ProducerIDs = append(f.ProducerIDs, n)
		}
	}
	if s := a.str("duration", ""); s != "" {
		d, _ := time.ParseDuration(s)
		f.MinDuration = d
	}
	if s := a.str("pattern", ""); s != "" {
		f.Pattern = regexp.MustCompile(s)
	}
	return f
}
