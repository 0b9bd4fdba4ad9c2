// Package metadata holds the cluster's metadata as records and the
// immutable image they build.
//
// Like KRaft (KIP-500, KIP-631), every change to cluster metadata is a
// record in the metadata log; the image is what replaying the records
// gives. An entry of the log carries a batch of records that apply
// atomically (a topic with all its partitions and configs, say). Apply
// returns a new image and never changes the old one, so readers hold an
// image without locks. This package does no I/O and starts no goroutines;
// the record encoding is documented in docs/format/metadata.md.
package metadata

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// UUID is a topic id (Kafka's Uuid: 16 bytes, shown in URL-safe base64).
type UUID [16]byte

// NewUUID returns a random version-4 UUID that is never the zero UUID nor
// Kafka's reserved metadata topic id (0...01).
func NewUUID() UUID {
	for {
		var u UUID
		if _, err := rand.Read(u[:]); err != nil {
			panic(err) // crypto/rand does not fail on Linux
		}
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
		if u != (UUID{}) && u != (UUID{15: 1}) {
			return u
		}
	}
}

// String is Kafka's rendering: URL-safe base64 without padding.
func (u UUID) String() string { return base64.RawURLEncoding.EncodeToString(u[:]) }

// ParseUUID reads Kafka's rendering back.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return u, fmt.Errorf("metadata: bad uuid %q", s)
	}
	copy(u[:], b)
	return u, nil
}

// MarshalText makes UUIDs readable in the JSON encoding.
func (u UUID) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText is MarshalText's inverse.
func (u *UUID) UnmarshalText(b []byte) error {
	v, err := ParseUUID(string(b))
	*u = v
	return err
}

// Endpoint is one listener a broker advertises.
type Endpoint struct {
	Name             string `json:"name"`
	Host             string `json:"host"`
	Port             int32  `json:"port"`
	SecurityProtocol int16  `json:"securityProtocol"`
}

// BrokerRecord registers a broker (Kafka's RegisterBrokerRecord, KIP-631);
// a new registration of the same id replaces the old one. Epoch grows with
// every registration of the id; the controller compares requests' broker
// epochs with it (STALE_BROKER_EPOCH).
type BrokerRecord struct {
	ID        int32      `json:"id"`
	Epoch     int64      `json:"epoch"`
	Listeners []Endpoint `json:"listeners"`
	Rack      *string    `json:"rack,omitempty"`
	Fenced    bool       `json:"fenced,omitempty"`
	// IncarnationID is the broker process's random id (KIP-631): a new one
	// is a restarted broker, the same one a retried registration.
	IncarnationID UUID `json:"incarnationId,omitzero"`
	// InControlledShutdown is set once the broker asked to shut down
	// (KIP-841's BrokerRegistrationChangeRecord field): it leads nothing
	// new and may not join an ISR.
	InControlledShutdown bool `json:"inControlledShutdown,omitempty"`
	// RegisteredAt is the metadata log index of the entry that registered
	// the broker: it is unfenced once it has replayed that far. Apply sets
	// it when it is zero; snapshots carry it.
	RegisteredAt uint64 `json:"registeredAt,omitempty"`
	// LogDirs are the directory ids of the broker's log directories
	// (KIP-858; meta.properties' directory.id): a registration naming one
	// is the same broker restarted.
	LogDirs []UUID `json:"logDirs,omitempty"`
}

// Endpoint is the broker's endpoint on the named listener, or its first
// when it has none of that name; false when it has no listener at all.
func (b BrokerRecord) Endpoint(listener string) (Endpoint, bool) {
	if len(b.Listeners) == 0 {
		return Endpoint{}, false
	}
	ep := b.Listeners[0]
	for _, l := range b.Listeners {
		if l.Name == listener {
			ep = l
		}
	}
	return ep, true
}

// BrokerChangeRecord changes a registered broker's state (Kafka's
// BrokerRegistrationChangeRecord, which replaced Fence/UnfenceBrokerRecord):
// a nil field is left as is. Epoch must be the registration's, so a change
// meant for an older registration cannot touch a newer one.
type BrokerChangeRecord struct {
	ID                   int32 `json:"id"`
	Epoch                int64 `json:"epoch"`
	Fenced               *bool `json:"fenced,omitempty"`
	InControlledShutdown *bool `json:"inControlledShutdown,omitempty"`
}

// TopicRecord creates a topic (Kafka's TopicRecord).
type TopicRecord struct {
	Name string `json:"name"`
	ID   UUID   `json:"id"`
}

// PartitionRecord sets a partition's whole state (Kafka splits this into
// PartitionRecord and PartitionChangeRecord; one full record is simpler and
// as compact for our sizes).
type PartitionRecord struct {
	TopicID        UUID    `json:"topicId"`
	Partition      int32   `json:"partition"`
	Replicas       []int32 `json:"replicas"`
	ISR            []int32 `json:"isr"`
	Leader         int32   `json:"leader"`
	LeaderEpoch    int32   `json:"leaderEpoch"`
	PartitionEpoch int32   `json:"partitionEpoch"`
	// AddingReplicas and RemovingReplicas describe a reassignment in
	// progress (KIP-455): Replicas is then the union of the old and the
	// target replicas.
	AddingReplicas   []int32 `json:"addingReplicas,omitempty"`
	RemovingReplicas []int32 `json:"removingReplicas,omitempty"`
	// LeaderRecoveryState is 1 (RECOVERING) after an unclean election
	// until the leader reports it recovered, else 0 (KIP-704).
	LeaderRecoveryState int8 `json:"leaderRecoveryState,omitempty"`
	// ELR and LastKnownELR are KIP-966's eligible leader replicas and last
	// known ELR (see Partition).
	ELR          []int32 `json:"elr,omitempty"`
	LastKnownELR []int32 `json:"lastKnownElr,omitempty"`
}

// RemoveTopicRecord deletes a topic, its partitions and its configs.
type RemoveTopicRecord struct {
	ID UUID `json:"id"`
}

// Resource types, with Kafka's ConfigResource codes.
const (
	ResourceTopic  int8 = 2
	ResourceBroker int8 = 4
)

// ConfigRecord sets (Value non-nil) or removes (nil) one config of a
// resource. A broker resource named "" holds the cluster-wide default.
type ConfigRecord struct {
	ResourceType int8    `json:"resourceType"`
	ResourceName string  `json:"resourceName"`
	Name         string  `json:"name"`
	Value        *string `json:"value"`
}

// ProducerIDsRecord hands the block of producer ids below NextProducerID
// to a broker (Kafka's ProducerIdsRecord, KIP-730): the controller commits
// one per AllocateProducerIds, so an id is never given out twice, across
// restarts included. A snapshot keeps only the next id (broker id and
// epoch -1), as Kafka's ProducerIdsImage does.
type ProducerIDsRecord struct {
	BrokerID       int32 `json:"brokerId"`
	BrokerEpoch    int64 `json:"brokerEpoch"`
	NextProducerID int64 `json:"nextProducerId"`
}

// Record is one metadata record: exactly one field is set.
type Record struct {
	Broker       *BrokerRecord       `json:"broker,omitempty"`
	BrokerChange *BrokerChangeRecord `json:"brokerChange,omitempty"`
	Topic        *TopicRecord        `json:"topic,omitempty"`
	Partition    *PartitionRecord    `json:"partition,omitempty"`
	RemoveTopic  *RemoveTopicRecord  `json:"removeTopic,omitempty"`
	Config       *ConfigRecord       `json:"config,omitempty"`
	ProducerIDs  *ProducerIDsRecord  `json:"producerIds,omitempty"`
}

func (r *Record) kinds() int {
	n := 0
	for _, set := range []bool{r.Broker != nil, r.BrokerChange != nil, r.Topic != nil, r.Partition != nil, r.RemoveTopic != nil, r.Config != nil, r.ProducerIDs != nil} {
		if set {
			n++
		}
	}
	return n
}

// entryVersion is the first byte of every encoded entry.
const entryVersion = 1

// ErrBadEntry reports a metadata log entry that does not decode.
var ErrBadEntry = errors.New("metadata: bad entry")

type entry struct {
	Records []Record `json:"records"`
}

// Encode turns a batch of records into one metadata log entry.
func Encode(records []Record) []byte {
	b, err := json.Marshal(entry{Records: records})
	if err != nil {
		panic(err) // plain structs always marshal
	}
	return append([]byte{entryVersion}, b...)
}

// Decode is Encode's inverse; every record must have exactly one kind.
func Decode(data []byte) ([]Record, error) {
	if len(data) == 0 || data[0] != entryVersion {
		return nil, fmt.Errorf("%w: version byte", ErrBadEntry)
	}
	var e entry
	if err := json.Unmarshal(data[1:], &e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEntry, err)
	}
	for i := range e.Records {
		if e.Records[i].kinds() != 1 {
			return nil, fmt.Errorf("%w: record %d has %d kinds", ErrBadEntry, i, e.Records[i].kinds())
		}
	}
	return e.Records, nil
}
