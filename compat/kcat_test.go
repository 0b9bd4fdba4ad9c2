package compat

import "testing"

// TestKcat runs kcat/roundtrip.sh per codec: kcat -L (metadata), -P with -K
// (keys), -H (headers) and -z (codec), -C from the beginning of each
// partition, -Q (offsets: earliest, latest, by time). kcat has no admin API,
// so franz-go creates the topic; it cannot set timestamps, so the script
// checks them against the produce run's window. Then kcat -G reads as a
// group member (kcatGroup, testGroup).
func TestKcat(t *testing.T) {
	t.Parallel()
	requireProgram(t, "kcat")
	addr := startBroker(t)
	forEachCodec(t, "kcat", func(t *testing.T, codec, topic string) {
		createTopic(t, addr, topic)
		runClient(t, "kcat/roundtrip.sh", addr, topic, codec)
		checkStored(t, addr, topic, codec, numRecords)
	})
	testGroup(t, addr, "kcat", kcatGroup)
}

// kcatGroup runs kcat as a balanced consumer (-G) until it has n records
// (-c). librdkafka commits as it does for kcat's users: automatically
// (enable.auto.commit, the default), every auto.commit.interval.ms and once
// more when kcat closes the consumer on exit.
func kcatGroup(t *testing.T, addr, topic, group string, n int) []groupRecord {
	return runGroupClient(t, "kcat", "-b", addr, "-G", group, "-X", "auto.offset.reset=earliest",
		"-c", itoa(n), "-q", "-f", `R\t%p\t%o\t%k\t%s\n`, topic)
}
