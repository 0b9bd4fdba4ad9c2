package wire

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestSchemaCoversKmsg: the table knows exactly the keys kmsg knows, with
// the same max version and the same flexible versions.
func TestSchemaCoversKmsg(t *testing.T) {
	for key := int16(-1); key <= 100; key++ {
		r, s := kmsg.RequestForKey(key), schemaFor(key)
		if (r == nil) != (s == nil) {
			t.Fatalf("key %d: kmsg knows it %v, the table %v", key, r != nil, s != nil)
		}
		if r == nil {
			continue
		}
		if s.maxVersion != r.MaxVersion() {
			t.Errorf("key %d: max version %d, kmsg %d", key, s.maxVersion, r.MaxVersion())
		}
		for v := int16(0); v <= r.MaxVersion(); v++ {
			r.SetVersion(v)
			if got := s.flexibleAt >= 0 && v >= s.flexibleAt; got != r.IsFlexible() {
				t.Errorf("key %d v%d: flexible %v, kmsg %v", key, v, got, r.IsFlexible())
			}
		}
	}
}

func TestResponseHeaderFlexible(t *testing.T) {
	for _, tc := range []struct {
		key, version int16
		want         bool
	}{
		{3, 8, false}, {3, 9, true}, {0, 9, true}, {18, 3, false}, {18, 4, false}, {999, 0, false}, {3, 99, false},
	} {
		if got := ResponseHeaderFlexible(tc.key, tc.version); got != tc.want {
			t.Errorf("key %d v%d: %v", tc.key, tc.version, got)
		}
	}
}
