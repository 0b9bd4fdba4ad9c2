package api

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// barrierPartition's Commit returns only once every partition of the
// request is committing: commits one after another would never get there.
type barrierPartition struct {
	Partition
	all *sync.WaitGroup
	err error
}

func (p *barrierPartition) Commit(int64) error {
	p.all.Done()
	p.all.Wait()
	return p.err
}

// A produce spanning several partitions waits for their commits (each its
// own fsync) at the same time, and each partition's answer carries its
// own result.
func TestCommitAllCommitsPartitionsAtOnce(t *testing.T) {
	const n = 3
	var all sync.WaitGroup
	all.Add(n)
	resps := make([]kmsg.ProduceResponseTopicPartition, n)
	pending := make([]pendingCommit, n)
	for i := range pending {
		resps[i] = kmsg.NewProduceResponseTopicPartition()
		resps[i].BaseOffset = int64(10 * i)
		p := &barrierPartition{all: &all}
		if i == 1 {
			p.err = kerr.KafkaStorageError
		}
		pending[i] = pendingCommit{p: p, next: int64(10*i + 1), resp: &resps[i]}
	}
	done := make(chan struct{})
	go func() { commitAll(context.Background(), pending, commitWait{acks: 1}); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("commitAll waits for one partition's commit before starting the next")
	}
	for i, r := range resps {
		wantCode, wantBase := int16(0), int64(10*i)
		if i == 1 {
			wantCode, wantBase = kerr.KafkaStorageError.Code, -1
		}
		if r.ErrorCode != wantCode || r.BaseOffset != wantBase {
			t.Errorf("partition %d: error %d base %d, want %d and %d", i, r.ErrorCode, r.BaseOffset, wantCode, wantBase)
		}
	}
}
