package log

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/samsa-io/samsa/internal/vfs"
)

// File name suffixes, as in Kafka's log layout.
const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	// cleanedSuffix: a compacted segment being written; deleted at recovery.
	cleanedSuffix = ".cleaned"
	// swapSuffix: a compacted segment complete on disk that replaces the
	// segments its offsets cover; recovery finishes the swap.
	swapSuffix = ".swap"
	// tmpSuffix: a checkpoint file being written; deleted at recovery.
	tmpSuffix = ".tmp"

	epochCheckpointName = "leader-epoch-checkpoint"
)

// The files of a segment: all of them, and the index files alone.
var (
	segmentSuffixes = []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix}
	indexSuffixes   = []string{indexSuffix, timeIndexSuffix}
)

// removeSegmentFiles unlinks a segment's files with the given suffixes,
// missing ones aside; it tries them all and returns the first error.
func removeSegmentFiles(fsys vfs.FS, dir string, base int64, suffixes []string) error {
	var first error
	for _, suffix := range suffixes {
		if err := fsys.Remove(segmentName(dir, base, suffix)); err != nil && !vfs.IsNotExist(err) && first == nil {
			first = err
		}
	}
	return first
}

// segmentName is a segment file's name: the base offset in 20 digits.
func segmentName(dir string, base int64, suffix string) string {
	return path.Join(dir, fmt.Sprintf("%020d%s", base, suffix))
}

// parseSegmentName returns the base offset of a file named
// "<20 digits><suffix>", and whether name has that form.
func parseSegmentName(name, suffix string) (int64, bool) {
	digits, ok := strings.CutSuffix(name, suffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	base, err := strconv.ParseInt(digits, 10, 64)
	return base, err == nil && base >= 0
}
