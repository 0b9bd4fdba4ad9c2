package api

// Produce (key 0). Versions 0-2 are advertised but refused, as Kafka 4
// does (KAFKA-18659): they can only carry the message formats Kafka 4
// removed (KIP-724, KIP-896), but librdkafka before 2.10 enables gzip and
// snappy only on brokers that list them. From v3, each partition's records
// must be exactly one RecordBatch v2. acks=0 gets no response; acks=1 is
// answered once the leader has the batch durably (by the log's policy);
// acks=-1 first needs min.insync.replicas in the ISR (NOT_ENOUGH_REPLICAS,
// nothing appended), then is answered once every in-sync replica has the
// batch (the high watermark passed it), or with REQUEST_TIMED_OUT after
// timeout_ms, NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR fell below
// min.insync.replicas, NOT_LEADER_OR_FOLLOWER when leadership moved.
// Topic ids replace names from v13 (KIP-516). Errors are
// per partition; NOT_LEADER_OR_FOLLOWER carries the current leader
// (KIP-951). A transactional batch is first verified with, or from v12
// under transactions v2 added to, its transaction (KIP-890 parts 1 and 2;
// produce_txn.go); v11 may answer TRANSACTION_ABORTABLE.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
)

func init() { register(kmsg.Produce, 0, 13, handleProduce) }

// firstBatchVersion is the first Produce version that carries RecordBatch v2.
const firstBatchVersion = 3

// pendingCommit is an appended batch waiting for its commit.
type pendingCommit struct {
	p    Partition
	next int64
	resp *kmsg.ProduceResponseTopicPartition
	// h and topic find KIP-951's hint at the new leader for a batch that
	// lost its leader while waiting (resp.Partition is the partition).
	h     *Handler
	topic string
}

// commitWait is what the batches of a produce wait for: acks=-1 waits for
// the in-sync replicas, until timeout.
type commitWait struct {
	acks    int16
	timeout time.Duration
}

func handleProduce(ctx context.Context, h *Handler, cl *Client, req kmsg.Request) reply {
	r := req.(*kmsg.ProduceRequest)
	resp := r.ResponseKind().(*kmsg.ProduceResponse)
	im := h.image()
	validAcks := r.Acks == 0 || r.Acks == 1 || r.Acks == -1
	if r.Version < firstBatchVersion {
		return refuseOldProduce(r, resp)
	}
	var pending []pendingCommit
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(r.Topics))
	for i, rt := range r.Topics {
		t := &resp.Topics[i]
		*t = kmsg.NewProduceResponseTopic()
		t.Topic, t.TopicID = rt.Topic, rt.TopicID
		name := rt.Topic
		if r.Version >= 13 {
			name = ""
			if mt := im.TopicByID(rt.TopicID); mt != nil {
				name = mt.Name
			}
		}
		t.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		for j, rp := range rt.Partitions {
			out := &t.Partitions[j]
			*out = kmsg.NewProduceResponseTopicPartition()
			out.Partition = rp.Partition
			if !validAcks {
				out.ErrorCode = kerr.InvalidRequiredAcks.Code
				continue
			}
			if pc, ok := h.produceOne(ctx, r, im, name, rp, out); ok {
				pending = append(pending, pc)
			}
		}
	}
	if r.Acks == 0 && validAcks {
		go commitAll(context.Background(), pending, commitWait{}) // the high watermark must still move
		if msg := firstError(resp); msg != "" {
			// No response can carry the error: Kafka closes the connection
			// so the producer refreshes its metadata.
			return reply{close: fmt.Errorf("acks=0 produce failed: %s", msg)}
		}
		return reply{none: true}
	}
	cw := commitWait{acks: r.Acks, timeout: time.Duration(r.TimeoutMillis) * time.Millisecond}
	return reply{wait: func(ctx context.Context) kmsg.Response {
		commitAll(ctx, pending, cw)
		if r.Version >= 10 {
			addProduceHintBrokers(resp, h.image(), cl.Listener)
		}
		return resp
	}}
}

// produceOne appends one partition's batch; ok means it awaits a commit.
func (h *Handler) produceOne(ctx context.Context, r *kmsg.ProduceRequest, im *metadata.Image, topic string, rp kmsg.ProduceRequestTopicPartition, out *kmsg.ProduceResponseTopicPartition) (pendingCommit, bool) {
	var p Partition
	var err error = kerr.UnknownTopicID // v13+ with an id no topic has
	if topic != "" {
		p, err = h.deps.Partition(topic, rp.Partition)
	}
	if err == nil && len(rp.Records) == 0 {
		err = kerr.InvalidRecord
	}
	if err == nil {
		err = h.verifyTxnProduce(ctx, r.Version, r.TransactionID, topic, rp.Partition, p, rp.Records)
	}
	var base, appendTime, logStart, next int64
	if err == nil {
		base, appendTime, logStart, next, err = p.Append(rp.Records, r.Acks)
	}
	if err != nil {
		out.ErrorCode = errCode(err)
		out.ErrorMessage = errMessage(err)
		out.BaseOffset, out.LogAppendTime, out.LogStartOffset = -1, -1, -1
		if out.ErrorCode == kerr.NotLeaderForPartition.Code {
			out.CurrentLeader = currentLeader(im, topic, rp.Partition)
		}
		return pendingCommit{}, false
	}
	out.BaseOffset, out.LogAppendTime, out.LogStartOffset = base, appendTime, logStart
	if h.deps.Produced != nil {
		h.deps.Produced(topic, int64(len(rp.Records)), int64(recordCount(rp.Records)))
	}
	return pendingCommit{p: p, next: next, resp: out, h: h, topic: topic}, true
}

// firstError names the first partition error of a response, or "".
func firstError(resp *kmsg.ProduceResponse) string {
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				return fmt.Sprintf("%s[%d]: %v", t.Topic, p.Partition, kerr.ErrorForCode(p.ErrorCode))
			}
		}
	}
	return ""
}

// commitAll waits for every appended batch to commit (with acks=-1, on
// every in-sync replica); a failed commit turns that partition's answer
// into the error. The partitions commit at once: each is its own log with
// its own fsync, and waiting for them one after another made a request
// spanning three partitions wait for three fsyncs in a row.
func commitAll(ctx context.Context, pending []pendingCommit, cw commitWait) {
	if cw.acks == -1 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cw.timeout)
		defer cancel()
	}
	var wg sync.WaitGroup
	for i := 1; i < len(pending); i++ {
		wg.Go(func() { pending[i].commit(ctx, cw.acks) })
	}
	if len(pending) > 0 {
		pending[0].commit(ctx, cw.acks)
	}
	wg.Wait()
}

func (pc *pendingCommit) commit(ctx context.Context, acks int16) {
	err := pc.p.Commit(pc.next)
	if err == nil && acks == -1 {
		err = pc.p.WaitReplicated(ctx, pc.next)
	}
	if err != nil {
		pc.resp.ErrorCode = errCode(err)
		pc.resp.ErrorMessage = errMessage(err)
		pc.resp.BaseOffset = -1
		if errors.Is(err, kerr.NotLeaderForPartition) && pc.h != nil {
			pc.resp.CurrentLeader = currentLeader(pc.h.image(), pc.topic, pc.resp.Partition)
		}
	}
}

// recordCount reads a RecordBatch v2's record count (bytes 57-60).
func recordCount(batch []byte) int32 {
	if len(batch) < 61 {
		return 0
	}
	return int32(binary.BigEndian.Uint32(batch[57:]))
}

// batchRecords sums the record counts of consecutive batches, reading
// only their headers (batch length at bytes 8-11).
func batchRecords(data []byte) int64 {
	var n int64
	for len(data) >= 61 {
		size := 12 + int(binary.BigEndian.Uint32(data[8:]))
		if size < 61 || size > len(data) {
			break
		}
		n += int64(recordCount(data))
		data = data[size:]
	}
	return n
}

// currentLeader is KIP-951's hint for a client that sent to a non-leader
// (leader_hints.go).
func currentLeader(im *metadata.Image, topic string, partition int32) kmsg.ProduceResponseTopicPartitionCurrentLeader {
	cl := kmsg.NewProduceResponseTopicPartitionCurrentLeader()
	cl.LeaderID, cl.LeaderEpoch = leaderOf(im, topic, partition)
	return cl
}

// addProduceHintBrokers lists the endpoints of the leaders the response's
// partitions name in their hints.
func addProduceHintBrokers(resp *kmsg.ProduceResponse, im *metadata.Image, listener string) {
	var ids []int32
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if hintsLeader(p.ErrorCode) {
				ids = append(ids, p.CurrentLeader.LeaderID)
			}
		}
	}
	hintedBrokers(im, listener, ids, func(b metadata.BrokerRecord, ep metadata.Endpoint) {
		rb := kmsg.NewProduceResponseBroker()
		rb.NodeID, rb.Host, rb.Port, rb.Rack = b.ID, ep.Host, ep.Port, b.Rack
		resp.Brokers = append(resp.Brokers, rb)
	})
}

// refuseOldProduce answers every partition of a v0-2 produce with
// UNSUPPORTED_VERSION.
func refuseOldProduce(r *kmsg.ProduceRequest, resp *kmsg.ProduceResponse) reply {
	for _, rt := range r.Topics {
		t := kmsg.NewProduceResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			p := kmsg.NewProduceResponseTopicPartition()
			p.Partition, p.ErrorCode = rp.Partition, kerr.UnsupportedVersion.Code
			p.BaseOffset, p.LogAppendTime, p.LogStartOffset = -1, -1, -1
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	if r.Acks == 0 {
		return reply{none: true}
	}
	return now(resp)
}
