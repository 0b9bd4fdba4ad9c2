package api

// Fetch (key 1), versions 4-18: long polls until min_bytes are ready or
// max_wait_ms passes (KIP-74 size limits: max_bytes for the response,
// partition_max_bytes per partition, the first batch always whole),
// incremental sessions (KIP-227), leader epoch checks (KIP-320), topic ids
// from v13 (KIP-516). Reads stop at the high watermark; read_committed
// stops at the last stable offset, which equals it until transactions
// exist.
//
// A fetch from a follower (replica id >= 0: ReplicaID before v15,
// ReplicaState from v15, KIP-903) reads up to the log end instead of the
// high watermark, records the follower's position on the leader (high
// watermark, ISR), answers a diverging epoch from v12 when the follower's
// last fetched epoch and offset disagree with the leader's epoch cache
// (KIP-320), long polls on the leader's log end rather than its high
// watermark, and is not counted as consumed bytes. A broker that is not a
// replica gets NOT_LEADER_OR_FOLLOWER (UNKNOWN_LEADER_EPOCH when it named
// the current epoch), as in Kafka. Authorizing it (CLUSTER_ACTION) is left
// to the authorizer once it exists.
//
// Records go out zero-copy: the partition returns a file region of the
// batches instead of their bytes, the response is encoded with a
// placeholder in their place (fetch_splice.go), and the connection sends
// the region from the segment file with sendfile(2). With the log's
// VerifyOnRead on, the batches are read, CRC-checked and copied instead.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/wire"
)

func init() { register(kmsg.Fetch, 4, 18, handleFetch) }

// defaultFetchMaxBytes is Kafka's fetch.max.bytes default (55 MiB).
const defaultFetchMaxBytes = 55 << 20

// fetchItem is one partition to read in a fetch.
type fetchItem struct {
	key         sessionKey
	name        string // the topic's current name; "" for an unknown id
	offset      int64
	maxBytes    int64
	leaderEpoch int32
	// lastFetchedEpoch and logStart are a follower's (v12+, v5+).
	lastFetchedEpoch int32
	logStart         int64
	sp               *sessionPartition // in a session; nil when sessionless
}

// fetchResult is one partition's read.
type fetchResult struct {
	item    *fetchItem
	p       Partition
	records []byte
	// region holds the batches instead of records; released once written
	// (the response takes it), read again or left out.
	region  *wire.Region
	hw, lso int64
	start   int64
	err     error
	// aborted, for a read_committed fetch (isolation level 1, KIP-98), are
	// the aborted transactions overlapping what was read.
	aborted []AbortedTxn
	// divergingEpoch and divergingEnd, unless -1, tell a follower where
	// its log diverged (KIP-320).
	divergingEpoch int32
	divergingEnd   int64
}

// diverged reports a diverging epoch to send.
func (r *fetchResult) diverged() bool { return r.divergingEpoch >= 0 || r.divergingEnd >= 0 }

// size is the bytes of batches read.
func (r *fetchResult) size() int64 {
	if r.region != nil {
		return int64(r.region.Len)
	}
	return int64(len(r.records))
}

type fetchCall struct {
	h           *Handler
	r           *kmsg.FetchRequest
	sess        *fetchSession // nil: sessionless
	incremental bool
	items       []*fetchItem
	// replica is the fetching follower's broker id, -1 for a consumer;
	// replicaEpoch its broker epoch (v15+), else -1.
	replica      int32
	replicaEpoch int64
	// regions are those respond put placeholders for, in order.
	regions []*wire.Region
	// listener is the client's, for KIP-951's leader endpoints.
	listener string
}

func handleFetch(_ context.Context, h *Handler, cl *Client, req kmsg.Request) reply {
	r := req.(*kmsg.FetchRequest)
	call, err := h.planFetch(r)
	if err != nil {
		resp := r.ResponseKind().(*kmsg.FetchResponse)
		resp.ErrorCode = errCode(err)
		return now(resp)
	}
	call.listener = cl.Listener
	results, ready := call.read()
	if ready || r.MaxWaitMillis <= 0 {
		return reply{resp: call.respond(results), encoded: func() { recycle(results) }, regions: call.takeRegions}
	}
	// The long poll reads again before it answers; holding no region
	// meanwhile, it has none to release if the connection closes first.
	recycle(results)
	deadline := h.deps.Now().Add(time.Duration(r.MaxWaitMillis) * time.Millisecond)
	return reply{
		wait: func(ctx context.Context) kmsg.Response {
			results = call.longPoll(ctx, results, deadline)
			return call.respond(results)
		},
		encoded: func() { recycle(results) },
		regions: call.takeRegions,
	}
}

// recycle gives the regions of encoded or superseded results back.
func recycle(results []fetchResult) {
	for i := range results {
		res := &results[i]
		if res.region != nil {
			res.region.Release()
		}
		res.records, res.region = nil, nil
	}
}

// takeRegions hands the regions placed in the response to the encoder.
func (c *fetchCall) takeRegions() []*wire.Region {
	r := c.regions
	c.regions = nil
	return r
}

// planFetch resolves the session (KIP-227) and the partitions to read.
func (h *Handler) planFetch(r *kmsg.FetchRequest) (*fetchCall, error) {
	call := &fetchCall{h: h, r: r, replica: r.ReplicaID, replicaEpoch: -1}
	if r.Version >= 15 {
		call.replica, call.replicaEpoch = r.ReplicaState.ID, r.ReplicaState.Epoch
	}
	im := h.image()
	switch {
	case r.SessionEpoch == finalEpoch:
		if r.SessionID != 0 {
			h.fs.close(r.SessionID)
		}
	case r.SessionEpoch == initialEpoch:
		if r.SessionID != 0 {
			h.fs.close(r.SessionID)
		}
		call.sess = h.fs.open()
	default:
		s, err := h.fs.get(r.SessionID, r.SessionEpoch)
		if err != nil {
			return nil, err
		}
		call.sess, call.incremental = s, true
	}
	if call.sess == nil {
		for _, rt := range r.Topics {
			for _, rp := range rt.Partitions {
				k := fetchKey(r.Version, rt.Topic, rt.TopicID, rp.Partition)
				call.items = append(call.items, &fetchItem{key: k, name: nameOf(im, k),
					offset: rp.FetchOffset, maxBytes: int64(rp.PartitionMaxBytes), leaderEpoch: rp.CurrentLeaderEpoch,
					lastFetchedEpoch: rp.LastFetchedEpoch, logStart: rp.LogStartOffset})
			}
		}
		return call, nil
	}
	call.updateSession(im)
	return call, nil
}

// fetchKey names a requested partition by name before v13, by id after.
func fetchKey(version int16, topic string, id metadata.UUID, partition int32) sessionKey {
	if version >= 13 {
		return sessionKey{id: id, partition: partition}
	}
	return sessionKey{topic: topic, partition: partition}
}

// nameOf is the topic's current name: the key's, or the topic with its id.
func nameOf(im *metadata.Image, k sessionKey) string {
	if k.topic != "" {
		return k.topic
	}
	if t := im.TopicByID(k.id); t != nil {
		return t.Name
	}
	return ""
}

// updateSession applies the request's partitions and forgotten topics to
// the session and lists every session partition to read.
func (c *fetchCall) updateSession(im *metadata.Image) {
	s, r := c.sess, c.r
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ft := range r.ForgottenTopics {
		for _, p := range ft.Partitions {
			s.forget(fetchKey(r.Version, ft.Topic, ft.TopicID, p))
		}
	}
	for _, rt := range r.Topics {
		for _, rp := range rt.Partitions {
			sp := s.set(fetchKey(r.Version, rt.Topic, rt.TopicID, rp.Partition), rp.FetchOffset, int64(rp.PartitionMaxBytes), rp.CurrentLeaderEpoch)
			sp.lastFetchedEpoch, sp.logStartSent = rp.LastFetchedEpoch, rp.LogStartOffset
		}
	}
	for _, k := range s.order {
		sp := s.parts[k]
		c.items = append(c.items, &fetchItem{key: k, name: nameOf(im, k), offset: sp.offset, maxBytes: sp.maxBytes,
			leaderEpoch: sp.leaderEpoch, lastFetchedEpoch: sp.lastFetchedEpoch, logStart: sp.logStartSent, sp: sp})
	}
}

// read reads every partition once; ready reports that the response may go
// now (enough bytes, or an error to report).
func (c *fetchCall) read() (results []fetchResult, ready bool) {
	// The response is bounded by the request's max_bytes and the broker's
	// fetch.max.bytes, whichever is smaller.
	remaining := c.h.deps.FetchMaxBytes
	if remaining <= 0 {
		remaining = defaultFetchMaxBytes
	}
	if c.r.MaxBytes > 0 {
		remaining = min(remaining, int64(c.r.MaxBytes))
	}
	total := int64(0)
	for _, it := range c.items {
		res := c.readOne(it, remaining, total == 0)
		total += res.size()
		remaining -= res.size()
		if res.err != nil || res.diverged() {
			ready = true
		}
		results = append(results, res)
	}
	return results, ready || total >= int64(c.r.MinBytes) || len(c.items) == 0
}

func (c *fetchCall) readOne(it *fetchItem, remaining int64, first bool) fetchResult {
	res := fetchResult{item: it, hw: -1, lso: -1, start: -1, divergingEpoch: -1, divergingEnd: -1}
	if it.name == "" {
		res.err = kerr.UnknownTopicID
		return res
	}
	p, err := c.h.deps.Partition(it.name, it.key.partition)
	if err == nil {
		err = p.CheckEpoch(it.leaderEpoch)
	}
	if err != nil {
		res.err = err
		return res
	}
	res.p = p
	limit := int(max(min(it.maxBytes, remaining), 0))
	if c.replica >= 0 {
		c.readReplica(&res, limit, first)
		return res
	}
	var recs Records
	if c.r.IsolationLevel == 1 {
		recs, res.hw, res.lso, res.start, res.aborted, res.err = p.ReadCommitted(it.offset, limit, first)
	} else {
		recs, res.hw, res.lso, res.start, res.err = p.Read(it.offset, limit, first)
	}
	res.records, res.region = recs.Bytes, recs.Region
	if res.err != nil {
		res.hw, res.lso, res.start = p.HighWatermark(), p.HighWatermark(), p.LogStartOffset()
	}
	return res
}

// readReplica is readOne for a follower: up to the log end, or the
// diverging epoch.
func (c *fetchCall) readReplica(res *fetchResult, limit int, first bool) {
	it := res.item
	rr, err := res.p.ReadReplica(ReplicaFetch{ReplicaID: c.replica, BrokerEpoch: c.replicaEpoch,
		CurrentLeaderEpoch: it.leaderEpoch, Offset: it.offset, LastFetchedEpoch: it.lastFetchedEpoch,
		LogStartOffset: it.logStart, MaxBytes: limit, MinOne: first})
	res.records, res.region, res.err = rr.Records.Bytes, rr.Records.Region, err
	res.hw, res.lso, res.start = rr.HighWatermark, rr.LastStable, rr.LogStart
	res.divergingEpoch, res.divergingEnd = rr.DivergingEpoch, rr.DivergingEnd
}

// longPoll waits for a watched partition's high watermark to move (a
// follower's: its log end) and
// reads again, until the response is ready or the deadline passes.
func (c *fetchCall) longPoll(ctx context.Context, results []fetchResult, deadline time.Time) []fetchResult {
	wake := make(chan struct{}, 1)
	notify := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	for _, res := range results {
		switch {
		case res.p == nil:
		case c.replica >= 0:
			defer res.p.WatchEnd(notify)()
		default:
			defer res.p.Watch(notify)()
		}
	}
	// Read once more now that the watchers are in place: a high watermark
	// that moved between the first read and the registration woke no one.
	notify()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		select {
		case <-wake:
		case <-timer.C:
			recycle(results)
			results, _ = c.read()
			return results
		case <-ctx.Done():
			return results
		}
		recycle(results)
		var ready bool
		if results, ready = c.read(); ready {
			return results
		}
	}
}

// respond builds the response; in an incremental session it leaves out
// partitions with nothing new and records what it sent.
func (c *fetchCall) respond(results []fetchResult) *kmsg.FetchResponse {
	resp := c.r.ResponseKind().(*kmsg.FetchResponse)
	if c.sess != nil {
		c.sess.mu.Lock()
		defer c.sess.mu.Unlock()
		resp.SessionID = c.sess.id
	}
	var hinted []int32
	for i := range results {
		res := &results[i]
		if !c.include(res) {
			continue
		}
		if p := c.appendPartition(resp, res); hintsLeader(p.ErrorCode) && c.r.Version >= 12 {
			p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch = leaderOf(c.h.image(), res.item.name, p.Partition)
			hinted = append(hinted, p.CurrentLeader.LeaderID)
		}
	}
	if len(hinted) > 0 && c.r.Version >= 16 {
		hintedBrokers(c.h.image(), c.listener, hinted, func(b metadata.BrokerRecord, ep metadata.Endpoint) {
			rb := kmsg.NewFetchResponseBroker()
			rb.NodeID, rb.Host, rb.Port, rb.Rack = b.ID, ep.Host, ep.Port, b.Rack
			resp.Brokers = append(resp.Brokers, rb)
		})
	}
	return resp
}

// include decides whether an incremental response carries a partition,
// and notes the values sent.
func (c *fetchCall) include(res *fetchResult) bool {
	sp := res.item.sp
	if sp == nil {
		return true
	}
	changed := !sp.sent || res.size() > 0 || res.err != nil || res.diverged() ||
		sp.hw != res.hw || sp.lso != res.lso || sp.logStart != res.start
	sp.sent, sp.hw, sp.lso, sp.logStart = true, res.hw, res.lso, res.start
	if res.size() > 0 {
		c.sess.moveToEnd(res.item.key)
	}
	return changed || !c.incremental
}

// appendPartition adds res to resp and returns it there.
func (c *fetchCall) appendPartition(resp *kmsg.FetchResponse, res *fetchResult) *kmsg.FetchResponseTopicPartition {
	k := res.item.key
	if n := len(resp.Topics); n == 0 || resp.Topics[n-1].Topic != k.topic || resp.Topics[n-1].TopicID != k.id {
		t := kmsg.NewFetchResponseTopic()
		t.Topic, t.TopicID = k.topic, k.id // the version encodes one of them
		resp.Topics = append(resp.Topics, t)
	}
	t := &resp.Topics[len(resp.Topics)-1]
	p := kmsg.NewFetchResponseTopicPartition()
	p.Partition = k.partition
	p.ErrorCode = errCode(res.err)
	p.HighWatermark, p.LastStableOffset, p.LogStartOffset = res.hw, res.lso, res.start
	p.PreferredReadReplica = -1
	if res.diverged() {
		p.DivergingEpoch.Epoch, p.DivergingEpoch.EndOffset = res.divergingEpoch, res.divergingEnd
	}
	if c.r.IsolationLevel == 1 {
		p.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
		for _, a := range res.aborted {
			p.AbortedTransactions = append(p.AbortedTransactions, kmsg.FetchResponseTopicPartitionAbortedTransaction{ProducerID: a.ProducerID, FirstOffset: a.FirstOffset})
		}
	}
	// Never null: librdkafka (2.0) rejects a null record set as a
	// protocol error ("invalid MessageSetSize -1"), and Kafka sends empty.
	p.RecordBatches = res.records
	if p.RecordBatches == nil {
		p.RecordBatches = []byte{}
	}
	if n := res.size(); n > 0 && c.h.deps.Fetched != nil && c.replica < 0 {
		records := batchRecords(res.records)
		if res.region != nil {
			records = res.region.Records
		}
		c.h.deps.Fetched(res.item.name, n, records)
	}
	if res.region != nil {
		// The response takes the region: encodeReply splices it in.
		p.RecordBatches = placeholder(len(c.regions))
		c.regions = append(c.regions, res.region)
		res.region = nil
	}
	t.Partitions = append(t.Partitions, p)
	return &t.Partitions[len(t.Partitions)-1]
}
