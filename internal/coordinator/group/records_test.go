package group

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// be builds big-endian bytes from Kafka's primitive types, to check the
// records against the schema by hand rather than through kmsg.
type be []byte

func (b be) i16(v int16) be { return binary.BigEndian.AppendUint16(b, uint16(v)) }
func (b be) i32(v int32) be { return binary.BigEndian.AppendUint32(b, uint32(v)) }
func (b be) i64(v int64) be { return binary.BigEndian.AppendUint64(b, uint64(v)) }
func (b be) str(s string) be {
	return append(b.i16(int16(len(s))), s...)
}
func (b be) bytes(p string) be { return append(b.i32(int32(len(p))), p...) }

func TestRecordLayout(t *testing.T) {
	cfg := DefaultConfig()
	at := time.UnixMilli(1_700_000_000_000)
	g := newGroup("grp", &cfg, at)
	g.generation, g.protocolType, g.protocol = 7, "consumer", "range"
	inst := "i1"
	g.add(&member{id: "m-1", instance: &inst, clientID: "cid", clientHost: "/h", rebalanceMs: 30000, sessionMs: 10000,
		protocolType: "consumer", protocols: []protocol{{name: "range", metadata: []byte("SUB")}}}, nil)
	off := offset{offset: 42, leaderEpoch: 3, metadata: "md", commitMs: 1234, expireMs: -1}
	tests := []struct {
		name string
		got  Record
		key  be
		val  be
	}{{
		name: "group metadata key v2, value v3",
		got:  g.metadataRecord(map[string][]byte{"m-1": []byte("ASG")}),
		key:  be{}.i16(2).str("grp"),
		val: be{}.i16(3).str("consumer").i32(7).str("range").str("m-1").i64(at.UnixMilli()).i32(1).
			str("m-1").str("i1").str("cid").str("/h").i32(30000).i32(10000).bytes("SUB").bytes("ASG"),
	}, {
		name: "group tombstone",
		got:  groupTombstone("grp"),
		key:  be{}.i16(2).str("grp"),
	}, {
		name: "offset commit key v1, value v3",
		got:  offsetRecord("grp", topicPartition{"t", 5}, off),
		key:  be{}.i16(1).str("grp").str("t").i32(5),
		val:  be{}.i16(3).i64(42).i32(3).str("md").i64(1234),
	}, {
		name: "offset commit value v1 with an expire timestamp",
		got:  offsetRecord("grp", topicPartition{"t", 5}, offset{offset: 42, leaderEpoch: -1, commitMs: 1234, expireMs: 5678}),
		key:  be{}.i16(1).str("grp").str("t").i32(5),
		val:  be{}.i16(1).i64(42).str("").i64(1234).i64(5678),
	}}
	for _, tt := range tests {
		if !bytes.Equal(tt.got.Key, tt.key) {
			t.Errorf("%s: key\n got %x\nwant %x", tt.name, tt.got.Key, []byte(tt.key))
		}
		if !bytes.Equal(tt.got.Value, tt.val) || (tt.val == nil) != (tt.got.Value == nil) {
			t.Errorf("%s: value\n got %x\nwant %x", tt.name, tt.got.Value, []byte(tt.val))
		}
	}
}

func TestReplay(t *testing.T) {
	v0 := kmsg.NewGroupMetadataValue() // written before KIP-62: no rebalance timeout
	v0.Version, v0.ProtocolType, v0.Generation, v0.Protocol, v0.Leader = 0, "consumer", 3, optional("range"), optional("m")
	v0.Members = []kmsg.GroupMetadataValueMember{{MemberID: "m", ClientID: "c", SessionTimeoutMillis: 9000, Subscription: []byte("s"), Assignment: []byte("a")}}
	cfg := DefaultConfig()
	groupRec := newGroup("g", &cfg, time.UnixMilli(1)).emptyRecord()
	offRec := offsetRecord("g", topicPartition{"t", 0}, offset{offset: 1, leaderEpoch: -1, commitMs: 1, expireMs: -1})
	tests := []struct {
		name    string
		records []Record
		wantErr error
		check   func(*Shard) string
	}{
		{name: "foreign record type (KIP-848 partition metadata, written by Kafka 4.0 only)", records: []Record{{Key: be{}.i16(4).str("g"), Value: []byte{0}}}, wantErr: ErrNotClassic},
		{name: "malformed consumer group record", records: []Record{{Key: be{}.i16(3).str("g"), Value: []byte{0}}}, wantErr: errRecord},
		{name: "short key", records: []Record{{Key: []byte{0}}}, wantErr: errAny},
		{name: "malformed group value", records: []Record{{Key: groupKey("g"), Value: []byte{0, 3, 0}}}, wantErr: errAny},
		{name: "malformed offset value", records: []Record{{Key: offRec.Key, Value: []byte{0, 3}}}, wantErr: errAny},
		{name: "v0 group value", records: []Record{{Key: groupKey("g"), Value: v0.AppendTo(nil)}}, check: func(s *Shard) string {
			g := s.groups["g"]
			if g.state != Stable || g.leader != "m" || g.members["m"].rebalanceMs != 9000 || string(g.members["m"].assignment) != "a" {
				return "want a Stable group led by m, rebalance timeout = session timeout"
			}
			return ""
		}},
		{name: "group tombstone", records: []Record{groupRec, groupTombstone("g")}, check: func(s *Shard) string {
			return when(s.groups["g"] != nil, "group still there")
		}},
		{name: "tombstone of a group with offsets", records: []Record{groupRec, offRec, groupTombstone("g")}, check: func(s *Shard) string {
			g := s.groups["g"]
			return when(g == nil || len(g.offsets) != 1 || g.protocolType != "", "want a bare group holding the offset")
		}},
		{name: "offset tombstone", records: []Record{offRec, offsetTombstone("g", topicPartition{"t", 0})}, check: func(s *Shard) string {
			return when(len(s.groups["g"].offsets) != 0, "offset still there")
		}},
		{name: "offsets survive a group record", records: []Record{offRec, groupRec}, check: func(s *Shard) string {
			return when(len(s.groups["g"].offsets) != 1, "offset lost")
		}},
	}
	for _, tt := range tests {
		s := NewShard(cfg)
		var err error
		for _, r := range tt.records {
			if err = s.Replay(r.Key, r.Value); err != nil {
				break
			}
		}
		switch {
		case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.wantErr)
		case tt.wantErr == nil && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.check != nil:
			if msg := tt.check(s); msg != "" {
				t.Errorf("%s: %s", tt.name, msg)
			}
		}
	}
}

var errAny = errors.New("any error")

func when(bad bool, msg string) string {
	if bad {
		return msg
	}
	return ""
}

func TestSubscriptionTopics(t *testing.T) {
	valid := metaBytes("sub=a+bb")
	tests := []struct {
		in   []byte
		want []string
		ok   bool
	}{
		{in: valid, want: []string{"a", "bb"}, ok: true},
		{in: be{}.i16(0).i32(0), want: []string{}, ok: true},
		{in: nil},
		{in: valid[:8]},
		{in: be{}.i16(0).i32(-1)},
		{in: be{}.i16(0).i32(1_000_000).str("x")},
		{in: be{}.i16(0).i32(1).i16(-5)},
	}
	for _, tt := range tests {
		got, err := subscriptionTopics(tt.in)
		if (err == nil) != tt.ok || tt.ok && !equalStrings(got, tt.want) {
			t.Errorf("subscriptionTopics(%x) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"defaults", func(*Config) {}, true},
		{"no initial delay", func(c *Config) { c.InitialRebalanceDelay = 0 }, true},
		{"negative delay", func(c *Config) { c.InitialRebalanceDelay = -1 }, false},
		{"empty session range", func(c *Config) { c.MaxSessionTimeout = c.MinSessionTimeout - 1 }, false},
		{"zero max size", func(c *Config) { c.MaxSize = 0 }, false},
		{"zero retention", func(c *Config) { c.OffsetsRetention = 0 }, false},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		tt.edit(&c)
		if err := c.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v", tt.name, err)
		}
	}
	c := DefaultConfig()
	if a, b := c.randomID(), c.randomID(); len(a) != 36 || a == b {
		t.Errorf("random ids %q, %q: want two different UUIDs", a, b)
	}
}
