package log

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/samsa-io/samsa/internal/vfs"
)

// Per log directory checkpoint files, in Kafka's format (topic partition
// offset per line).
const (
	recoveryPointFile = "recovery-point-offset-checkpoint"
	logStartFile      = "log-start-offset-checkpoint"
	cleanerOffsetFile = "cleaner-offset-checkpoint"
	// replicationFile holds each replica's high watermark, as Kafka's.
	replicationFile = "replication-offset-checkpoint"
)

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// DirName is the partition's directory name, <topic>-<partition>.
func (tp TopicPartition) DirName() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

// parseDirName splits "<topic>-<partition>" at the last dash.
func parseDirName(name string) (TopicPartition, bool) {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 {
		return TopicPartition{}, false
	}
	p, err := strconv.ParseInt(name[i+1:], 10, 32)
	if err != nil || p < 0 {
		return TopicPartition{}, false
	}
	return TopicPartition{name[:i], int32(p)}, true
}

// DirOptions configure a log directory.
type DirOptions struct {
	// Config returns a partition's log configuration (topic overrides over
	// broker defaults); DefaultConfig when nil.
	Config func(TopicPartition) Config
	Now    func() time.Time
}

// Dir is one log directory (an entry of log.dirs): a partition log in each
// <topic>-<partition> subdirectory, and the directory's checkpoint files.
// Its methods are safe for concurrent use.
type Dir struct {
	fs   vfs.FS
	path string
	opts DirOptions

	mu   sync.Mutex // guards logs and serializes checkpoint writes
	logs map[TopicPartition]*Log
}

// DirReport is what OpenDir found: each partition's recovery, and the
// partitions that could not be opened (their logs are unavailable, the
// others serve).
type DirReport struct {
	Recovered map[TopicPartition]RecoveryReport
	Failed    map[TopicPartition]error
}

// OpenDir opens every partition log in dir, recovering each from the
// checkpointed recovery point, log start and cleaner offsets.
func OpenDir(fsys vfs.FS, dir string, opts DirOptions) (*Dir, DirReport, error) {
	rep := DirReport{Recovered: map[TopicPartition]RecoveryReport{}, Failed: map[TopicPartition]error{}}
	if opts.Config == nil {
		opts.Config = func(TopicPartition) Config { return DefaultConfig() }
	}
	if err := fsys.MkdirAll(dir); err != nil {
		return nil, rep, err
	}
	d := &Dir{fs: fsys, path: dir, opts: opts, logs: map[TopicPartition]*Log{}}
	points := map[string]map[TopicPartition]int64{}
	for _, f := range []string{recoveryPointFile, logStartFile, cleanerOffsetFile, replicationFile} {
		m, err := readOffsets(fsys, path.Join(dir, f))
		if err != nil {
			return nil, rep, err
		}
		points[f] = m
	}
	names, err := fsys.List(dir)
	if err != nil {
		return nil, rep, err
	}
	for _, n := range names {
		tp, ok := parseDirName(n)
		if !ok {
			continue
		}
		l, r, err := Open(fsys, path.Join(dir, n), Options{
			Config: opts.Config(tp), Now: opts.Now,
			RecoveryPoint:  points[recoveryPointFile][tp],
			LogStartOffset: points[logStartFile][tp],
			CleanerOffset:  points[cleanerOffsetFile][tp],
			HighWatermark:  points[replicationFile][tp],
		})
		if err != nil {
			rep.Failed[tp] = err
			continue
		}
		rep.Recovered[tp] = r
		d.logs[tp] = l
	}
	return d, rep, d.Checkpoint()
}

// readOffsets reads a per-directory offset checkpoint.
func readOffsets(fsys vfs.FS, name string) (map[TopicPartition]int64, error) {
	rows, err := readCheckpoint(fsys, name, 3)
	if err != nil {
		return nil, err
	}
	m := make(map[TopicPartition]int64, len(rows))
	for _, r := range rows {
		p, err1 := strconv.ParseInt(r[1], 10, 32)
		o, err2 := strconv.ParseInt(r[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("log: %s: bad entry %v", name, r)
		}
		m[TopicPartition{r[0], int32(p)}] = o
	}
	return m, nil
}

// Log returns a partition's log, or nil.
func (d *Dir) Log(tp TopicPartition) *Log {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.logs[tp]
}

// Partitions lists the open partitions, sorted.
func (d *Dir) Partitions() []TopicPartition {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.partitionsLocked()
}

func (d *Dir) partitionsLocked() []TopicPartition {
	tps := make([]TopicPartition, 0, len(d.logs))
	for tp := range d.logs {
		tps = append(tps, tp)
	}
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
	return tps
}

// ErrExists: the partition already has a log.
var ErrExists = errors.New("log: partition exists")

// Create creates an empty partition log.
func (d *Dir) Create(tp TopicPartition) (*Log, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.logs[tp] != nil {
		return nil, fmt.Errorf("%w: %s", ErrExists, tp.DirName())
	}
	l, _, err := Open(d.fs, path.Join(d.path, tp.DirName()), Options{Config: d.opts.Config(tp), Now: d.opts.Now})
	if err != nil {
		return nil, err
	}
	if err := d.fs.SyncDir(d.path); err != nil {
		l.Close()
		return nil, err
	}
	d.logs[tp] = l
	return l, nil
}

// Delete closes a partition's log and removes its files.
func (d *Dir) Delete(tp TopicPartition) error {
	d.mu.Lock()
	l := d.logs[tp]
	delete(d.logs, tp)
	d.mu.Unlock()
	if l == nil {
		return nil
	}
	l.Close()
	if err := d.fs.RemoveAll(l.Dir()); err != nil {
		return err
	}
	if err := d.fs.SyncDir(d.path); err != nil {
		return err
	}
	return d.Checkpoint()
}

// DeleteRecords raises a partition's log start offset (Kafka's
// DeleteRecords) and makes the new start durable before returning.
func (d *Dir) DeleteRecords(tp TopicPartition, offset int64) error {
	l := d.Log(tp)
	if l == nil {
		return fmt.Errorf("log: no partition %s", tp.DirName())
	}
	if err := l.DeleteRecordsBefore(offset); err != nil {
		return err
	}
	return d.Checkpoint()
}

// Checkpoint writes the recovery points, log start offsets and cleaner
// offsets of every open partition.
func (d *Dir) Checkpoint() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	tps := d.partitionsLocked()
	for _, f := range []struct {
		name string
		get  func(*Log) int64
	}{
		{recoveryPointFile, (*Log).RecoveryPoint},
		{logStartFile, (*Log).LogStartOffset},
		{cleanerOffsetFile, (*Log).CleanerOffset},
		{replicationFile, (*Log).HighWatermark},
	} {
		lines := make([]string, len(tps))
		for i, tp := range tps {
			lines[i] = fmt.Sprintf("%s %d %d", tp.Topic, tp.Partition, f.get(d.logs[tp]))
		}
		if err := writeCheckpoint(d.fs, path.Join(d.path, f.name), lines); err != nil {
			return err
		}
	}
	return nil
}

// Maintain runs one round of background work on every log: the flush.ms
// policy, retention, and compaction. The broker calls it periodically.
func (d *Dir) Maintain() error {
	var errs []error
	for _, tp := range d.Partitions() {
		l := d.Log(tp)
		if l == nil {
			continue
		}
		if err := l.MaybeFlush(); err != nil {
			errs = append(errs, fmt.Errorf("%s: flush: %w", tp.DirName(), err))
		}
		if _, err := l.EnforceRetention(); err != nil {
			errs = append(errs, fmt.Errorf("%s: retention: %w", tp.DirName(), err))
		}
		if _, err := l.Clean(); err != nil {
			errs = append(errs, fmt.Errorf("%s: compaction: %w", tp.DirName(), err))
		}
	}
	errs = append(errs, d.Checkpoint())
	return errors.Join(errs...)
}

// Abandon releases every log's files without the clean close's steps or
// a final checkpoint (Log.Abandon): what a crash leaves, for tests.
func (d *Dir) Abandon() {
	for _, tp := range d.Partitions() {
		d.Log(tp).Abandon()
	}
}

// Close closes every log and writes the final checkpoints, whose recovery
// points then cover everything: the next open rescans only active segments.
func (d *Dir) Close() error {
	var errs []error
	for _, tp := range d.Partitions() {
		if err := d.Log(tp).Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", tp.DirName(), err))
		}
	}
	errs = append(errs, d.Checkpoint())
	return errors.Join(errs...)
}
