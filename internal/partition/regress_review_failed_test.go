package partition

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/vfs"
)

// A partition whose log could not be created is remembered in m.failed, but
// apply only removes entries of m.parts when their topic goes: the failure
// outlives the topic. A new topic of the same name (new id, a disk that
// has recovered) is then never opened and answers KAFKA_STORAGE_ERROR until
// the broker restarts; meanwhile the deleted topic answers
// KAFKA_STORAGE_ERROR instead of UNKNOWN_TOPIC_OR_PARTITION.
func TestFailedPartitionGoesWithItsTopic(t *testing.T) {
	fsys := vfs.NewMem()
	f := newFixture(t, fsys)
	f.m.Start(f.im)
	fsys.SetInjector(func(op vfs.Op, path string) error {
		if op == vfs.OpMkdir && strings.Contains(path, "t-0") {
			return syscall.ENOSPC
		}
		return nil
	})
	oldID, newID := metadata.NewUUID(), metadata.NewUUID()
	f.apply(topic("t", oldID, []int32{node})...)
	fsys.SetInjector(nil)
	if _, err := f.m.Get("t", 0); !errors.Is(err, ErrStorageFail) {
		t.Fatalf("setup: want a storage failure, got %v", err)
	}
	f.apply(metadata.Record{RemoveTopic: &metadata.RemoveTopicRecord{ID: oldID}})
	if _, err := f.m.Get("t", 0); !errors.Is(err, ErrUnknown) {
		t.Errorf("deleted topic: got %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
	}
	f.apply(topic("t", newID, []int32{node})...)
	if _, err := f.m.Get("t", 0); err != nil {
		t.Fatalf("recreated topic on a healthy disk: %v", err)
	}
}
