package wire

import (
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// A sample is one encoded request body for the tests.
type sample struct {
	key, version int16
	what         string
	body         []byte
}

func (s sample) String() string {
	return fmt.Sprintf("key %d v%d %s (%d bytes)", s.key, s.version, s.what, len(s.body))
}

// kmsgSamples encodes, with kmsg's AppendTo, the default request of every
// key and version kmsg knows, and a hand-filled one for the big APIs.
func kmsgSamples() []sample {
	var out []sample
	for key := int16(0); key <= 100; key++ {
		r := kmsg.RequestForKey(key)
		if r == nil {
			continue
		}
		for v := int16(0); v <= r.MaxVersion(); v++ {
			r.SetVersion(v)
			out = append(out, sample{key, v, "default", r.AppendTo(nil)})
		}
	}
	for _, r := range filledRequests() {
		for v := int16(0); v <= r.MaxVersion(); v++ {
			r.SetVersion(v)
			out = append(out, sample{r.Key(), v, "filled", r.AppendTo(nil)})
		}
	}
	return out
}

func str(s string) *string { return &s }

func unknownTags() kmsg.Tags {
	var t kmsg.Tags
	t.Set(99, []byte{1, 2})
	return t
}

// filledRequests are requests with non-empty arrays and strings, tagged
// fields (known and unknown) and records, for the big APIs.
func filledRequests() []kmsg.Request {
	return []kmsg.Request{
		filledProduce(), filledFetch(), filledMetadata(), filledCreateTopics(),
		filledListOffsets(), filledOffsetCommit(), filledJoinGroup(),
		filledDescribeConfigs(), filledIncrementalAlterConfigs(),
	}
}

func recordBatch() []byte {
	b := kmsg.RecordBatch{Magic: 2, NumRecords: 1, Records: []byte{20, 0, 0, 0, 2, 'k', 2, 'v', 0}}
	b.Length = int32(len(b.AppendTo(nil)) - 12)
	return b.AppendTo(nil)
}

func filledProduce() kmsg.Request {
	r := kmsg.NewPtrProduceRequest()
	r.TransactionID, r.Acks, r.TimeoutMillis = str("txn"), -1, 3000
	r.UnknownTags = unknownTags()
	for _, name := range []string{"a", "bb"} {
		t := kmsg.ProduceRequestTopic{Topic: name, TopicID: [16]byte{1, 2}}
		t.Partitions = append(t.Partitions,
			kmsg.ProduceRequestTopicPartition{Partition: 0, Records: recordBatch()},
			kmsg.ProduceRequestTopicPartition{Partition: 1, Records: nil, UnknownTags: unknownTags()})
		r.Topics = append(r.Topics, t)
	}
	return r
}

func filledFetch() kmsg.Request {
	r := kmsg.NewPtrFetchRequest()
	r.ClusterID = str("cluster")
	r.ReplicaState.ID, r.ReplicaState.Epoch = 3, 9
	r.ReplicaState.UnknownTags = unknownTags()
	r.MaxWaitMillis, r.MinBytes, r.IsolationLevel, r.SessionID, r.Rack = 500, 1, 1, 7, "rack-a"
	p := kmsg.NewFetchRequestTopicPartition()
	p.Partition, p.FetchOffset, p.PartitionMaxBytes = 2, 100, 1<<20
	p.ReplicaDirectoryID, p.HighWatermark = [16]byte{9}, 42
	t := kmsg.FetchRequestTopic{Topic: "orders", TopicID: [16]byte{5}, UnknownTags: unknownTags()}
	t.Partitions = []kmsg.FetchRequestTopicPartition{p, p}
	r.Topics = []kmsg.FetchRequestTopic{t, t}
	r.ForgottenTopics = []kmsg.FetchRequestForgottenTopic{{Topic: "old", TopicID: [16]byte{6}, Partitions: []int32{1, 2, 3}}}
	return r
}

func filledMetadata() kmsg.Request {
	r := kmsg.NewPtrMetadataRequest()
	r.Topics = []kmsg.MetadataRequestTopic{{Topic: str("a"), TopicID: [16]byte{1}}, {Topic: str("bcd")}}
	r.AllowAutoTopicCreation, r.IncludeTopicAuthorizedOperations = true, true
	r.UnknownTags = unknownTags()
	return r
}

func filledCreateTopics() kmsg.Request {
	r := kmsg.NewPtrCreateTopicsRequest()
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = "new", 3, 1
	t.ReplicaAssignment = []kmsg.CreateTopicsRequestTopicReplicaAssignment{{Partition: 0, Replicas: []int32{1, 2}}}
	t.Configs = []kmsg.CreateTopicsRequestTopicConfig{{Name: "cleanup.policy", Value: str("compact")}, {Name: "x", Value: nil}}
	r.Topics = []kmsg.CreateTopicsRequestTopic{t}
	r.TimeoutMillis, r.ValidateOnly = 1000, true
	return r
}

func filledListOffsets() kmsg.Request {
	r := kmsg.NewPtrListOffsetsRequest()
	r.IsolationLevel, r.TimeoutMillis = 1, 100
	p := kmsg.NewListOffsetsRequestTopicPartition()
	p.Partition, p.Timestamp, p.MaxNumOffsets = 4, -1, 1
	r.Topics = []kmsg.ListOffsetsRequestTopic{{Topic: "t", Partitions: []kmsg.ListOffsetsRequestTopicPartition{p, p}}}
	return r
}

func filledOffsetCommit() kmsg.Request {
	r := kmsg.NewPtrOffsetCommitRequest()
	r.Group, r.Generation, r.MemberID, r.InstanceID, r.RetentionTimeMillis = "g", 5, "m-1", str("i"), 60000
	p := kmsg.NewOffsetCommitRequestTopicPartition()
	p.Partition, p.Offset, p.Timestamp, p.LeaderEpoch, p.Metadata = 1, 10, 99, 2, str("meta")
	r.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", TopicID: [16]byte{3}, Partitions: []kmsg.OffsetCommitRequestTopicPartition{p}}}
	return r
}

func filledJoinGroup() kmsg.Request {
	r := kmsg.NewPtrJoinGroupRequest()
	r.Group, r.SessionTimeoutMillis, r.MemberID, r.InstanceID, r.ProtocolType = "g", 45000, "", str("inst"), "consumer"
	r.Reason = str("rejoin")
	r.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0, 1, 2}}, {Name: "sticky", Metadata: []byte{}}}
	return r
}

func filledDescribeConfigs() kmsg.Request {
	r := kmsg.NewPtrDescribeConfigsRequest()
	r.Resources = []kmsg.DescribeConfigsRequestResource{
		{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "t", ConfigNames: []string{"retention.ms", "segment.bytes"}},
		{ResourceType: kmsg.ConfigResourceTypeBroker, ResourceName: "1", ConfigNames: nil},
	}
	r.IncludeSynonyms, r.IncludeDocumentation = true, true
	return r
}

func filledIncrementalAlterConfigs() kmsg.Request {
	r := kmsg.NewPtrIncrementalAlterConfigsRequest()
	r.Resources = []kmsg.IncrementalAlterConfigsRequestResource{{
		ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "t",
		Configs: []kmsg.IncrementalAlterConfigsRequestResourceConfig{
			{Name: "retention.ms", Op: kmsg.IncrementalAlterConfigOpSet, Value: str("1000")},
			{Name: "cleanup.policy", Op: kmsg.IncrementalAlterConfigOpDelete, Value: nil},
		},
	}}
	r.ValidateOnly = true
	return r
}

// denseStyle says how the schema-driven encoder fills a body.
type denseStyle struct {
	fanout int  // elements in every array
	null   bool // null in every field that is nullable in the version
	fill   byte // every byte of fixed-size values; nonzero: strings and bytes hold one byte
	tags   bool // write every known tagged field and an unknown one in each tagged-field section
}

// denseBody encodes a body from the schema table alone: the tests decode
// it with kmsg, so the table is checked against kmsg's own layout.
func denseBody(key, v int16, st denseStyle) []byte {
	s := schemaFor(key)
	e := denseEncoder{v: v, flexible: s.flexibleAt >= 0 && v >= s.flexibleAt, st: st}
	return e.structBody(nil, s.fields)
}

type denseEncoder struct {
	v        int16
	flexible bool
	st       denseStyle
}

func (e *denseEncoder) structBody(dst []byte, fields []field) []byte {
	for i := range fields {
		if f := &fields[i]; !f.tagged && f.in(e.v) {
			dst = e.value(dst, f)
		}
	}
	if !e.flexible {
		return dst
	}
	if !e.st.tags {
		return append(dst, 0)
	}
	return e.tagSection(dst, fields)
}

func (e *denseEncoder) tagSection(dst []byte, fields []field) []byte {
	var known []*field
	for i := range fields {
		if fields[i].tagged {
			known = append(known, &fields[i])
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(known)+1))
	for _, f := range known {
		data := e.value(nil, f)
		dst = binary.AppendUvarint(dst, uint64(f.tag))
		dst = binary.AppendUvarint(dst, uint64(len(data)))
		dst = append(dst, data...)
	}
	return append(dst, 90, 1, 0xAA) // unknown tag 90, one byte
}

func (e *denseEncoder) value(dst []byte, f *field) []byte {
	if n := fixedSize(f.kind); n > 0 {
		for ; n > 0; n-- {
			dst = append(dst, e.st.fill)
		}
		return dst
	}
	null := e.st.null && f.nullableIn(e.v)
	switch f.kind {
	case kindVarint, kindVarlong:
		return append(dst, e.st.fill&0x7f)
	case kindString, kindBytes:
		width := map[kind]int{kindString: 2, kindBytes: 4}[f.kind]
		if null {
			return e.length(dst, -1, width)
		}
		if e.st.fill == 0 {
			return e.length(dst, 0, width)
		}
		return append(e.length(dst, 1, width), 'x')
	case kindStruct:
		if f.nullable {
			if null {
				return append(dst, 0xff)
			}
			dst = append(dst, 1)
		}
		return e.structBody(dst, f.fields)
	case kindArray:
		if null {
			return e.length(dst, -1, 4)
		}
		dst = e.length(dst, e.st.fanout, 4)
		elem := field{name: f.name, kind: f.elem, fields: f.fields}
		for range e.st.fanout {
			dst = e.value(dst, &elem)
		}
		return dst
	}
	panic("unknown kind")
}

func (e *denseEncoder) length(dst []byte, n, width int) []byte {
	switch {
	case e.flexible:
		return binary.AppendUvarint(dst, uint64(n+1))
	case width == 2:
		return binary.BigEndian.AppendUint16(dst, uint16(int16(n)))
	}
	return binary.BigEndian.AppendUint32(dst, uint32(int32(n)))
}

// denseStyles: the minimal body (nulls, zeros, no elements), minimal
// elements in arrays, one-byte contents, and every tagged field.
var denseStyles = []denseStyle{
	{fanout: 0, null: true},
	{fanout: 3, null: true},
	{fanout: 2, fill: 1},
	{fanout: 2, fill: 1, tags: true},
}

// denseSamples encodes every key and version in every dense style.
func denseSamples() []sample {
	var out []sample
	for key := range int16(len(requestSchemas)) {
		s := schemaFor(key)
		if s == nil {
			continue
		}
		for v := int16(0); v <= s.maxVersion; v++ {
			for _, st := range denseStyles {
				out = append(out, sample{key, v, fmt.Sprintf("dense%+v", st), denseBody(key, v, st)})
			}
		}
	}
	return out
}
