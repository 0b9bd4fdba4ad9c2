package compat

import "testing"

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
func TestKafkajs(t *testing.T) {
	t.Parallel()
	requireKafkajs(t)
	addr := startBroker(t)
	forEachCodec(t, "kafkajs", func(t *testing.T, codec, topic string) {
		runClient(t, "node", "node/roundtrip.js", addr, topic, codec, "-n", itoa(numRecords))
		checkStored(t, addr, topic, codec, numRecords)
	})
}
