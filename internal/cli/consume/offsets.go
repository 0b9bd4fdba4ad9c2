package consume

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// startSpec is where consuming starts in each partition, parsed from
// --offset or --from-time.
type startSpec struct {
	kind   int   // one of the spec* constants
	n      int64 // the offset (specExact), distance (specAfterStart, specBeforeEnd) or Unix ms (specTime)
	source string
}

const (
	specStart      = iota // the log start offset
	specEnd               // the high watermark: only new records
	specExact             // offset n, bounded to [start, end]
	specAfterStart        // n after the log start offset
	specBeforeEnd         // n before the end
	specTime              // the first record at or after Unix ms n
)

const offsetHelp = `start (the default), end (only new
records), N (an exact offset), +N (N after the start), -N (N before the
end), or @MS (the first record at or after a Unix time in milliseconds;
@ an RFC 3339 time works too)`

func parseOffset(s string) (startSpec, error) {
	spec := startSpec{source: "--offset " + s}
	bad := func() (startSpec, error) {
		return startSpec{}, fmt.Errorf("--offset %q: want start, end, N, +N, -N or @TIMESTAMP_MS", s)
	}
	switch {
	case s == "start" || s == "oldest" || s == "beginning":
		spec.kind = specStart
	case s == "end" || s == "newest":
		spec.kind = specEnd
	case strings.HasPrefix(s, "@"):
		ms, err := parseTime(s[1:])
		if err != nil {
			return startSpec{}, fmt.Errorf("--offset %q: %w", s, err)
		}
		spec.kind, spec.n = specTime, ms
	case strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-"):
		n, err := strconv.ParseInt(s[1:], 10, 64)
		if err != nil || n < 0 {
			return bad()
		}
		spec.kind, spec.n = specAfterStart, n
		if s[0] == '-' {
			spec.kind = specBeforeEnd
		}
	default:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return bad()
		}
		spec.kind, spec.n = specExact, n
	}
	return spec, nil
}

// parseTime reads Unix milliseconds or an RFC 3339 time.
func parseTime(s string) (int64, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		if ms < 0 {
			return 0, errors.New("a timestamp cannot be negative")
		}
		return ms, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("want Unix milliseconds or an RFC 3339 time such as 2006-01-02T15:04:05Z")
	}
	return t.UnixMilli(), nil
}

// resolve is the offset to start at in a partition that holds [start, end),
// given at: the first offset at or after the spec's time (specTime only).
func (s startSpec) resolve(start, end, at int64) int64 {
	var o int64
	switch s.kind {
	case specStart:
		o = start
	case specEnd:
		o = end
	case specExact:
		o = s.n
	case specAfterStart:
		o = end
		if s.n < end-start {
			o = start + s.n
		}
	case specBeforeEnd:
		o = start
		if s.n < end-start {
			o = end - s.n
		}
	case specTime:
		o = at
	}
	return min(max(o, start), end)
}

// resetOffset is the spec as franz-go's reset offset: where a group member
// starts in a partition its group has no commit for.
func (s startSpec) resetOffset() kgo.Offset {
	o := kgo.NewOffset()
	switch s.kind {
	case specEnd:
		return o.AtEnd()
	case specExact:
		return o.At(s.n)
	case specAfterStart:
		return o.AtStart().Relative(s.n)
	case specBeforeEnd:
		return o.AtEnd().Relative(-s.n)
	case specTime:
		return o.AfterMilli(s.n)
	}
	return o.AtStart()
}
