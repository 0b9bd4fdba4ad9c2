package compat

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// requireKafkajs fails the test unless node and compat/node/node_modules
// are installed.
func requireKafkajs(t *testing.T) {
	t.Helper()
	requireProgram(t, "node")
	for _, m := range []string{"kafkajs", "kafkajs-snappy", "kafkajs-lz4", "zstd-napi"} {
		requireFile(t, "node/node_modules/"+m+"/package.json", "npm package "+m)
	}
}

// TestKafkajs runs node/roundtrip.js per codec: admin.createTopics and
// fetchTopicMetadata, producer.send (compression, explicit timestamps), a
// read-back by partition with kafkajs's own Fetch path but no group (kafkajs
// has no assign()), admin.fetchTopicOffsets and fetchTopicOffsetsByTimestamp.
// Then node/group.js reads as a group member and commits each batch with
// consumer.commitOffsets (autoCommit off, testGroup).
func TestKafkajs(t *testing.T) {
	t.Parallel()
	requireKafkajs(t)
	addr := startBroker(t)
	forEachCodec(t, "kafkajs", func(t *testing.T, codec, topic string) {
		runClient(t, "node", "node/roundtrip.js", addr, topic, codec, "-n", itoa(numRecords))
		checkStored(t, addr, topic, codec, numRecords)
	})
	testGroup(t, addr, "kafkajs", func(t *testing.T, addr, topic, group string, n int) []groupRecord {
		return runGroupClient(t, "node", "node/group.js", addr, topic, group, "--count", itoa(n))
	})
}

// TestKafkajsGroup runs node/roundtrip.js --group: after the round trip,
// kafkajs's consumer group as most of its users run it (eachMessage,
// autoCommit on: kafkajs commits what it resolved as it goes and when it
// disconnects) reads the topic back from the beginning, checked record by
// record; the offsets it committed are checked with kadm. The broker has
// default group settings (50 offsets partitions, a 3 s initial rebalance
// delay).
func TestKafkajsGroup(t *testing.T) {
	t.Parallel()
	requireKafkajs(t)
	addr := startDefaultBroker(t)
	runClient(t, "node", "node/roundtrip.js", addr, "kafkajs-group", "none", "-n", itoa(numRecords), "--group")
	checkStored(t, addr, "kafkajs-group", "none", numRecords)

	// kafkajs commits what it consumed: every partition up to its end.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	committed, err := kadm.NewClient(cl).FetchOffsets(ctx, "kafkajs-group-group")
	if err != nil || committed.Error() != nil {
		t.Fatal(err, committed.Error())
	}
	for p := range int32(partitions) {
		o, ok := committed.Lookup("kafkajs-group", p)
		if !ok || o.At != numRecords/partitions {
			t.Errorf("partition %d: committed %+v, want offset %d", p, o, numRecords/partitions)
		}
	}
}
