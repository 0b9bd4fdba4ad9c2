package log

import (
	"fmt"
	"path"
	"sort"
	"strconv"

	"github.com/samsa-io/samsa/internal/vfs"
)

// EpochEntry says that leader epoch Epoch wrote its first record at
// StartOffset.
type EpochEntry struct {
	Epoch       int32
	StartOffset int64
}

// epochCache is Kafka's leader-epoch cache (KIP-101, KIP-279): the start
// offset of each leader epoch in this log, persisted in
// leader-epoch-checkpoint. Followers use it to find where their log diverged
// from the leader's (OffsetForLeaderEpoch). The log's append lock guards it.
type epochCache struct {
	fs      vfs.FS
	file    string
	entries []EpochEntry // ascending in both Epoch and StartOffset
}

func loadEpochCache(fsys vfs.FS, dir string) (*epochCache, error) {
	c := &epochCache{fs: fsys, file: path.Join(dir, epochCheckpointName)}
	rows, err := readCheckpoint(fsys, c.file, 2)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		e, err1 := strconv.ParseInt(r[0], 10, 32)
		o, err2 := strconv.ParseInt(r[1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("log: %s: bad entry %v", c.file, r)
		}
		c.entries = append(c.entries, EpochEntry{int32(e), o})
	}
	return c, nil
}

func (c *epochCache) persist() error {
	lines := make([]string, len(c.entries))
	for i, e := range c.entries {
		lines[i] = fmt.Sprintf("%d %d", e.Epoch, e.StartOffset)
	}
	return writeCheckpoint(c.fs, c.file, lines)
}

// latest returns the newest epoch, or -1.
func (c *epochCache) latest() int32 {
	if len(c.entries) == 0 {
		return -1
	}
	return c.entries[len(c.entries)-1].Epoch
}

// assign records that epoch starts at offset, if epoch is newer than every
// known one. Older or equal epochs change nothing (their start is known).
func (c *epochCache) assign(epoch int32, offset int64) (changed bool, err error) {
	if epoch < 0 || epoch <= c.latest() {
		return false, nil
	}
	c.entries = append(c.entries, EpochEntry{epoch, offset})
	return true, c.persist()
}

// truncateFromEnd drops epochs that start at or after end (the new log end).
func (c *epochCache) truncateFromEnd(end int64) error {
	i := sort.Search(len(c.entries), func(i int) bool { return c.entries[i].StartOffset >= end })
	if i == len(c.entries) {
		return nil
	}
	c.entries = c.entries[:i]
	return c.persist()
}

// clear forgets every epoch (the log restarts empty).
func (c *epochCache) clear() error {
	if len(c.entries) == 0 {
		return nil
	}
	c.entries = nil
	return c.persist()
}

// truncateFromStart forgets epochs wholly before start (the new log start):
// the last epoch starting at or before start is kept, moved up to start.
func (c *epochCache) truncateFromStart(start int64) error {
	i := sort.Search(len(c.entries), func(i int) bool { return c.entries[i].StartOffset > start })
	if i == 0 || (i == 1 && c.entries[0].StartOffset == start) {
		return nil
	}
	kept := append([]EpochEntry{{c.entries[i-1].Epoch, start}}, c.entries[i:]...)
	c.entries = kept
	return c.persist()
}

// endOffsetFor answers OffsetForLeaderEpoch for a requested epoch, as
// Kafka's LeaderEpochFileCache.endOffsetFor does: the largest known epoch
// not above the request, and the start offset of the epoch after it (the log
// end offset when it is the latest). Unknown: (-1, -1).
func (c *epochCache) endOffsetFor(epoch int32, logEnd int64) (int32, int64) {
	if epoch < 0 || len(c.entries) == 0 {
		return -1, -1
	}
	if epoch == c.latest() {
		return epoch, logEnd
	}
	higher := sort.Search(len(c.entries), func(i int) bool { return c.entries[i].Epoch > epoch })
	if higher == len(c.entries) {
		return -1, -1
	}
	if higher == 0 {
		return epoch, c.entries[0].StartOffset
	}
	return c.entries[higher-1].Epoch, c.entries[higher].StartOffset
}

func (c *epochCache) snapshot() []EpochEntry { return append([]EpochEntry(nil), c.entries...) }
