package compat

import "testing"

// TestKcat runs kcat/roundtrip.sh per codec: kcat -L (metadata), -P with -K
// (keys), -H (headers) and -z (codec), -C from the beginning of each
// partition, -Q (offsets: earliest, latest, by time). kcat has no admin API,
// so franz-go creates the topic; it cannot set timestamps, so the script
// checks them against the produce run's window.
func TestKcat(t *testing.T) {
	t.Parallel()
	requireProgram(t, "kcat")
	addr := startBroker(t)
	forEachCodec(t, "kcat", func(t *testing.T, codec, topic string) {
		createTopic(t, addr, topic)
		runClient(t, "kcat/roundtrip.sh", addr, topic, codec)
		checkStored(t, addr, topic, codec, numRecords)
	})
}
