package partition

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/log"
	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/scripttest"
	"github.com/samsa-io/samsa/internal/vfs"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt")

// TestScripts runs testdata/*.txt: cases of a command line, "----", the
// expected output and a blank line (the format of etcd raft's interaction
// tests, the controller's and the coordinators' scripts); -rewrite
// regenerates the output. Each script drives a small cluster of managers
// (cluster_test.go's image, fake controller and network) inside a synctest
// bubble: time moves only with "advance", and replica fetches happen only
// when the script releases them, so every run is the same. After every
// command the replication invariants are checked (checkInvariants).
//
// Commands:
//
//	cluster nodes=1,2,3 [min-isr=N] [lag=30s]  brokers up, topic t created
//	image leader=L isr=A,B [epoch=N]           the controller's next partition state
//	append node=N [batches=K] [acks=all|1|0] [timeout=30s]
//	fetch [node=N,M] [rounds=K]                release each node's replica fetch in flight
//	advance 31s                                fake time passes
//	checkisr [node=N]                          the isr-expiration task runs
//	drop link=A->B / heal link=A->B            fetches between A and B fail (both ways)
//	controller refuse|accept                   AlterPartition fails or commits
//	kill node=N / restart node=N               the process stops, its log stays
//	read node=N [offset=O]                     a consumer fetch
//	state                                      print the cluster
//
// Every command's output ends with the acks=all appends that finished
// during it and the state of every node.
func TestScripts(t *testing.T) {
	for _, f := range scripttest.Files(t) {
		t.Run(scripttest.Name(f), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := &scriptHarness{t: t, waiters: map[int]*waiter{}, hws: map[hwKey]int64{}, fs: map[int32]*vfs.MemFS{}}
				defer h.close()
				scripttest.RunFile(t, f, *rewrite, func(_ *testing.T, where, line string) string { return h.run(where, line) })
			})
		})
	}
}

// scriptHarness is a cluster (cluster_test.go) whose replica fetches wait
// at a gate until the script releases them.
type scriptHarness struct {
	t     *testing.T
	c     *cluster
	ids   []int32
	fs    map[int32]*vfs.MemFS // the disks of killed brokers
	boots map[int32]int        // restarts, for the high-watermark invariant

	gateMu  sync.Mutex
	pending map[int32][]*gatedFetch // by fetching broker

	nextWaiter int
	waiters    map[int]*waiter
	// hws is the last high watermark each leader had in its epoch.
	hws map[hwKey]int64
	// committed is the log below the largest high watermark a leader had:
	// every later leader must hold it.
	committed   []byte
	committedHW int64
}

type hwKey struct {
	node  int32
	boot  int
	epoch int32
}

type gatedFetch struct {
	from, leader int32
	req          *kmsg.FetchRequest
	reply        chan gatedReply
}

type gatedReply struct {
	resp *kmsg.FetchResponse
	err  error
}

// waiter is an acks=all append waiting for the ISR.
type waiter struct {
	id     int
	node   int32
	base   int64
	next   int64
	cancel context.CancelFunc
	done   chan struct{}
	err    error
	shown  bool
}

// gateClient is broker from's LeaderClient: each Fetch waits until the
// script releases it.
type gateClient struct {
	h    *scriptHarness
	from int32
}

func (g gateClient) Fetch(ctx context.Context, leader int32, req *kmsg.FetchRequest) (*kmsg.FetchResponse, error) {
	gf := &gatedFetch{from: g.from, leader: leader, req: req, reply: make(chan gatedReply, 1)}
	g.h.gateMu.Lock()
	g.h.pending[g.from] = append(g.h.pending[g.from], gf)
	g.h.gateMu.Unlock()
	select {
	case r := <-gf.reply:
		return r.resp, r.err
	case <-ctx.Done():
		g.h.gateMu.Lock()
		g.h.pending[g.from] = slices.DeleteFunc(g.h.pending[g.from], func(x *gatedFetch) bool { return x == gf })
		g.h.gateMu.Unlock()
		return nil, ctx.Err()
	}
}

func (h *scriptHarness) boot(id int32, fsys *vfs.MemFS) {
	c := h.c
	d, _, err := log.OpenDir(fsys, "data", log.DirOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	n := &broker{id: id, fsys: fsys, dir: d}
	n.m = NewManager(Config{NodeID: id, Dir: d, LogConfig: replLogConfig, MinInsyncReplicas: minInsync,
		ReplicaLagTimeMax: c.lagMax, LeaderClient: gateClient{h, id}, ISRUpdater: controller{c},
		BrokerEpoch: func() int64 { return brokerEpoch(id) }, Now: time.Now})
	c.mu.Lock()
	c.nodes[id] = n
	im := c.im
	c.mu.Unlock()
	n.m.Start(im)
	synctest.Wait()
}

func (h *scriptHarness) close() {
	for _, w := range h.waiters {
		w.cancel()
	}
	if h.c != nil {
		h.c.stop()
	}
	synctest.Wait()
}

// run executes one command, then reports the waiters that finished and
// the state, and checks the invariants.
func (h *scriptHarness) run(where, line string) string {
	defer func() {
		if r := recover(); r != nil {
			h.t.Fatalf("%s: %s: panic: %v", where, line, r)
		}
	}()
	fields := strings.Fields(line)
	a := scripttest.ParseArgs(fields[1:])
	var out []string
	switch fields[0] {
	case "cluster":
		out = h.cluster(a)
	case "image":
		out = h.image(a)
	case "append":
		out = h.append(a)
	case "fetch":
		out = h.fetch(a)
	case "advance":
		d, err := time.ParseDuration(a.Pos[0])
		if err != nil {
			panic(err)
		}
		time.Sleep(d)
		synctest.Wait()
	case "checkisr":
		for _, id := range h.nodes(a) {
			if m := h.manager(id); m != nil {
				m.CheckISR(time.Now())
			}
		}
		synctest.Wait()
	case "drop", "heal":
		l, r, ok := strings.Cut(a.KV["link"], "->")
		if !ok {
			panic("link=A->B")
		}
		h.c.partitionNet(int32(atoi(l)), int32(atoi(r)), fields[0] == "drop")
	case "controller":
		h.c.mu.Lock()
		h.c.refuse = a.Pos[0] == "refuse"
		h.c.mu.Unlock()
	case "kill":
		id := int32(a.Int("node", 0))
		h.fs[id] = h.c.kill(id)
		synctest.Wait()
	case "restart":
		id := int32(a.Int("node", 0))
		h.boots[id]++
		h.boot(id, h.fs[id])
		delete(h.fs, id)
	case "read":
		out = h.read(a)
	case "state":
	default:
		h.t.Fatalf("%s: unknown command %q", where, fields[0])
	}
	out = append(out, h.finished()...)
	if h.c != nil {
		out = append(out, h.state()...)
		for _, e := range h.checkInvariants() {
			h.t.Errorf("%s: %s: invariant: %s", where, line, e)
		}
	}
	return strings.Join(out, "\n")
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

func idList(s string) []int32 {
	if s == "" || s == "-" {
		return []int32{}
	}
	var out []int32
	for _, f := range strings.Split(s, ",") {
		out = append(out, int32(atoi(f)))
	}
	return out
}

func joinIDs(ids []int32) string {
	if len(ids) == 0 {
		return "-"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}

// nodes are the brokers a command names with node=, else all of them.
func (h *scriptHarness) nodes(a scripttest.Args) []int32 {
	if v, ok := a.KV["node"]; ok {
		return idList(v)
	}
	return h.ids
}

func (h *scriptHarness) manager(id int32) *Manager {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	if n := h.c.nodes[id]; n != nil {
		return n.m
	}
	return nil
}

func (h *scriptHarness) part(id int32) *Partition {
	m := h.manager(id)
	if m == nil {
		return nil
	}
	p, err := m.Get(h.c.topic, 0)
	if err != nil {
		return nil
	}
	return p
}

func (h *scriptHarness) cluster(a scripttest.Args) []string {
	h.ids = idList(a.KV["nodes"])
	h.boots = map[int32]int{}
	h.pending = map[int32][]*gatedFetch{}
	c := &cluster{t: h.t, topic: "t", id: metadata.NewUUID(), lagMax: a.Duration("lag", 30*time.Second), im: metadata.Empty(),
		nodes: map[int32]*broker{}, cut: map[[2]int32]bool{}}
	h.c = c
	var recs []metadata.Record
	for _, id := range h.ids {
		recs = append(recs, metadata.Record{Broker: &metadata.BrokerRecord{ID: id, Epoch: brokerEpoch(id)}})
	}
	recs = append(recs, metadata.Record{Topic: &metadata.TopicRecord{Name: c.topic, ID: c.id}})
	c.apply(recs...)
	if n := a.Int("min-isr", 0); n > 0 {
		c.setMinISR(int(n))
	}
	for _, id := range h.ids {
		h.boot(id, vfs.NewMem())
	}
	return nil
}

// image commits the next partition state, as an election or a
// reassignment by the controller would: the next leader epoch unless
// epoch= says otherwise (the same epoch changes only the ISR).
func (h *scriptHarness) image(a scripttest.Args) []string {
	c := h.c
	c.mu.Lock()
	t := c.im.Topic(c.topic)
	cur := metadata.Partition{Leader: -1, LeaderEpoch: 0, PartitionEpoch: -1}
	if len(t.Partitions) > 0 {
		cur = t.Partitions[0]
	}
	epoch := int32(a.Int("epoch", int64(cur.LeaderEpoch)+1))
	rec := &metadata.PartitionRecord{TopicID: c.id, Replicas: h.ids, ISR: idList(a.KV["isr"]),
		Leader: int32(a.Int("leader", -1)), LeaderEpoch: epoch, PartitionEpoch: cur.PartitionEpoch + 1}
	c.applyLocked(metadata.Record{Partition: rec})
	c.mu.Unlock()
	synctest.Wait()
	return nil
}

func (h *scriptHarness) append(a scripttest.Args) []string {
	id := int32(a.Int("node", 0))
	acks := int16(-1)
	switch a.KV["acks"] {
	case "", "all", "-1":
	default:
		acks = int16(atoi(a.KV["acks"]))
	}
	p := h.part(id)
	if p == nil {
		return []string{fmt.Sprintf("n%d: no partition", id)}
	}
	var out []string
	for range a.Int("batches", 1) {
		h.nextWaiter++
		n := h.nextWaiter
		ap, err := p.AppendAcks(batch(h.t, time.Now().UnixMilli(), fmt.Sprintf("w%d", n)), acks)
		if err == nil && acks != 0 {
			err = p.Commit(ap.Next)
		}
		if err != nil {
			out = append(out, fmt.Sprintf("w%d: %s", n, errName(err)))
			continue
		}
		if acks != -1 {
			out = append(out, fmt.Sprintf("w%d: offset %d ok", n, ap.BaseOffset))
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), a.Duration("timeout", 30*time.Second))
		w := &waiter{id: n, node: id, base: ap.BaseOffset, next: ap.Next, cancel: cancel, done: make(chan struct{})}
		h.waiters[n] = w
		go func() {
			defer close(w.done)
			defer cancel()
			w.err = p.WaitReplicated(ctx, ap.Next)
		}()
		out = append(out, fmt.Sprintf("w%d: offset %d appended, waiting", n, ap.BaseOffset))
	}
	synctest.Wait()
	return out
}

// finished reports the acks=all appends that finished since the last
// command.
func (h *scriptHarness) finished() []string {
	var out []string
	for _, n := range slices.Sorted(maps.Keys(h.waiters)) {
		w := h.waiters[n]
		select {
		case <-w.done:
		default:
			continue
		}
		res := "ok"
		if w.err != nil {
			res = errName(w.err)
		}
		out = append(out, fmt.Sprintf("w%d (n%d offset %d) acks=all: %s", n, w.node, w.base, res))
		delete(h.waiters, n)
	}
	return out
}

func errName(err error) string {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Message
	}
	return err.Error()
}

// fetch releases, node by node, the replica fetch each has in flight and
// answers it as the leader's Fetch handler would, without long polling.
func (h *scriptHarness) fetch(a scripttest.Args) []string {
	var out []string
	for range a.Int("rounds", 1) {
		for _, id := range h.nodes(a) {
			if p := h.part(id); !a.Has("node") && (p == nil || p.IsLeader()) {
				continue // fetch with no node= releases the followers' fetches
			}
			h.gateMu.Lock()
			calls := h.pending[id]
			h.pending[id] = nil
			h.gateMu.Unlock()
			if len(calls) == 0 {
				out = append(out, fmt.Sprintf("n%d: no fetch in flight", id))
			}
			for _, gf := range calls {
				resp, err := h.serve(gf)
				out = append(out, describeFetch(gf, resp, err))
				gf.reply <- gatedReply{resp, err}
				synctest.Wait()
			}
		}
	}
	return out
}

func (h *scriptHarness) serve(gf *gatedFetch) (*kmsg.FetchResponse, error) {
	c := h.c
	c.mu.Lock()
	n, cut := c.nodes[gf.leader], c.cut[[2]int32{gf.from, gf.leader}]
	c.mu.Unlock()
	if n == nil || cut {
		return nil, fmt.Errorf("n%d unreachable", gf.leader)
	}
	resp, _ := readReplicas(n.m, gf.req)
	return resp, nil
}

func describeFetch(gf *gatedFetch, resp *kmsg.FetchResponse, err error) string {
	var rq kmsg.FetchRequestTopicPartition
	for _, t := range gf.req.Topics {
		for _, p := range t.Partitions {
			rq = p
		}
	}
	s := fmt.Sprintf("n%d->n%d fetch epoch=%d offset=%d last-epoch=%d: ", gf.from, gf.leader, rq.CurrentLeaderEpoch, rq.FetchOffset, rq.LastFetchedEpoch)
	if err != nil {
		return s + err.Error()
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			switch {
			case p.ErrorCode != 0:
				s += kerr.ErrorForCode(p.ErrorCode).(*kerr.Error).Message
			case p.DivergingEpoch.EndOffset >= 0:
				s += fmt.Sprintf("diverging epoch=%d end=%d", p.DivergingEpoch.Epoch, p.DivergingEpoch.EndOffset)
			default:
				s += "batches " + describeBatches(p.RecordBatches)
			}
			s += fmt.Sprintf(" hw=%d", p.HighWatermark)
		}
	}
	return s
}

// describeBatches lists batches as offset@epoch (first-last@epoch for
// several records).
func describeBatches(b []byte) string {
	var s []string
	for len(b) > 0 {
		_, hd, rest, err := record.Next(b)
		if err != nil {
			s = append(s, "?"+err.Error())
			break
		}
		b = rest
		if hd.LastOffsetDelta == 0 {
			s = append(s, fmt.Sprintf("%d@%d", hd.BaseOffset, hd.PartitionLeaderEpoch))
		} else {
			s = append(s, fmt.Sprintf("%d-%d@%d", hd.BaseOffset, hd.LastOffset(), hd.PartitionLeaderEpoch))
		}
	}
	if len(s) == 0 {
		return "[]"
	}
	return "[" + strings.Join(s, " ") + "]"
}

func (h *scriptHarness) read(a scripttest.Args) []string {
	id := int32(a.Int("node", 0))
	p := h.part(id)
	if p == nil {
		return []string{fmt.Sprintf("n%d: no partition", id)}
	}
	res, err := p.Read(int64(a.Int("offset", 0)), 1<<20, true)
	if err == nil && !p.IsLeader() {
		// What a consumer's Fetch gets (ReadFetch): only the leader serves.
		_, err = p.ReadFetch(int64(a.Int("offset", 0)), 1<<20, true)
	}
	if err != nil {
		return []string{fmt.Sprintf("n%d read: %s", id, errName(err))}
	}
	return []string{fmt.Sprintf("n%d read: batches %s hw=%d", id, describeBatches(res.Records), res.HighWatermark)}
}

func logContents(l *log.Log, upTo int64) []byte {
	b, err := l.Read(l.LogStartOffset(), 1<<30, upTo, true)
	if err != nil && !errors.Is(err, log.ErrOffsetOutOfRange) {
		panic(err)
	}
	return b
}

func epochCache(l *log.Log) string {
	var s []string
	for _, e := range l.Epochs() {
		s = append(s, fmt.Sprintf("%d@%d", e.Epoch, e.StartOffset))
	}
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

// state prints the controller's partition state and each node's replica:
// role and epoch, log end, high watermark, the leader's ISR (and a
// proposal in flight), the batches (offset@epoch) and the epoch cache
// (epoch@start offset).
func (h *scriptHarness) state() []string {
	c := h.c
	c.mu.Lock()
	var out []string
	if t := c.im.Topic(c.topic); len(t.Partitions) > 0 {
		part := t.Partitions[0]
		out = append(out, fmt.Sprintf("controller: leader=%d epoch=%d isr=%s", part.Leader, part.LeaderEpoch, joinIDs(part.ISR)))
	}
	c.mu.Unlock()
	for _, id := range h.ids {
		p := h.part(id)
		if p == nil {
			if h.manager(id) == nil {
				out = append(out, fmt.Sprintf("n%d: down", id))
			} else {
				out = append(out, fmt.Sprintf("n%d: no replica", id))
			}
			continue
		}
		p.mu.Lock()
		var role string
		if p.leader.Load() {
			role = "leader isr=" + joinIDs(p.ls.isr)
			if p.ls.pending != nil {
				role += " proposed=" + joinIDs(p.ls.pending.isr)
			}
		} else {
			role = fmt.Sprintf("follower of %d", p.leaderID)
		}
		epoch, hw := p.leaderEpoch.Load(), p.hw.Load()
		p.mu.Unlock()
		l := p.log
		out = append(out, fmt.Sprintf("n%d: %s epoch=%d leo=%d hw=%d log=%s epochs=%s", id, role, epoch, l.LogEndOffset(), hw,
			describeBatches(logContents(l, -1)), epochCache(l)))
	}
	return out
}

// checkInvariants checks, on the live nodes:
//   - the leader's high watermark is at most the log end of every ISR
//     member (its committed ISR, and a proposed addition);
//   - a leader's high watermark never goes down within its epoch;
//   - a follower's log below its high watermark is the leader's;
//   - what any leader had below its high watermark (committed) is in the
//     current leader's log, unchanged.
func (h *scriptHarness) checkInvariants() []string {
	var errs []string
	var leader *Partition
	var leaderID int32
	for _, id := range h.ids {
		if p := h.part(id); p != nil && p.IsLeader() {
			if leader != nil {
				errs = append(errs, fmt.Sprintf("two leaders: n%d and n%d", leaderID, id))
			}
			leader, leaderID = p, id
		}
	}
	if leader == nil {
		return errs
	}
	leader.mu.Lock()
	isr := slices.Clone(leader.ls.isr)
	epoch, hw := leader.leaderEpoch.Load(), leader.hw.Load()
	leader.mu.Unlock()
	for _, id := range isr {
		if p := h.part(id); p != nil && p.log.LogEndOffset() < hw {
			errs = append(errs, fmt.Sprintf("leader n%d hw=%d above ISR member n%d's log end %d", leaderID, hw, id, p.log.LogEndOffset()))
		}
	}
	k := hwKey{leaderID, h.boots[leaderID], epoch}
	if prev, ok := h.hws[k]; ok && hw < prev {
		errs = append(errs, fmt.Sprintf("leader n%d hw went down from %d to %d in epoch %d", leaderID, prev, hw, epoch))
	}
	h.hws[k] = hw
	for _, id := range h.ids {
		p := h.part(id)
		if p == nil || p == leader {
			continue
		}
		fhw := p.HighWatermark()
		if fhw > leader.log.LogEndOffset() {
			errs = append(errs, fmt.Sprintf("follower n%d hw=%d past the leader's log end %d", id, fhw, leader.log.LogEndOffset()))
			continue
		}
		if !bytes.Equal(logContents(p.log, fhw), logContents(leader.log, fhw)) {
			errs = append(errs, fmt.Sprintf("follower n%d's log below its hw %d is not the leader's", id, fhw))
		}
	}
	if leader.log.LogEndOffset() < h.committedHW || !bytes.Equal(logContents(leader.log, h.committedHW), h.committed) {
		errs = append(errs, fmt.Sprintf("leader n%d lost committed records below %d", leaderID, h.committedHW))
	}
	if hw > h.committedHW {
		h.committedHW, h.committed = hw, logContents(leader.log, hw)
	}
	return errs
}
