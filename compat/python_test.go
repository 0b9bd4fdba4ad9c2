package compat

import (
	"os/exec"
	"testing"
)

// The Python clients are Debian's packages, installed for Debian's Python:
// the python3 first on PATH may be another one.
const debianPython = "/usr/bin/python3"

// requirePython fails the test unless Debian's Python imports the modules.
func requirePython(t *testing.T, modules string) {
	t.Helper()
	requireFile(t, debianPython, "Debian's python3")
	if out, err := exec.Command(debianPython, "-c", "import "+modules).CombinedOutput(); err != nil {
		t.Fatalf("%s cannot import %s: %v\n%s\n%s", debianPython, modules, err, out, installHint)
	}
}

// TestConfluentKafkaPython runs python/confluent_roundtrip.py per codec:
// AdminClient.create_topics and list_topics, Producer (compression.type,
// explicit timestamps), Consumer by assign(), get_watermark_offsets and
// offsets_for_times; then python/confluent_group.py reads as a group member
// and commits (Consumer.subscribe, commit(asynchronous=False), testGroup).
func TestConfluentKafkaPython(t *testing.T) {
	t.Parallel()
	requirePython(t, "confluent_kafka")
	addr := startBroker(t)
	forEachCodec(t, "confluent", func(t *testing.T, codec, topic string) {
		runClient(t, debianPython, "python/confluent_roundtrip.py", addr, topic, codec, "-n", itoa(numRecords))
		checkStored(t, addr, topic, codec, numRecords)
	})
	testGroup(t, addr, "confluent", pythonGroup("python/confluent_group.py"))
}

// TestKafkaPython runs python/kafka_python_roundtrip.py per codec:
// KafkaAdminClient.create_topics, KafkaProducer (compression_type, explicit
// timestamps), KafkaConsumer by assign(), beginning_offsets, end_offsets and
// offsets_for_times. It prints the broker version kafka-python guessed. Then
// python/kafka_python_group.py reads as a group member and commits
// (KafkaConsumer(group_id=...).subscribe, commit(), testGroup).
func TestKafkaPython(t *testing.T) {
	t.Parallel()
	requirePython(t, "kafka, snappy, lz4.frame, zstandard")
	addr := startBroker(t)
	forEachCodec(t, "kafkapython", func(t *testing.T, codec, topic string) {
		runClient(t, debianPython, "python/kafka_python_roundtrip.py", addr, topic, codec, "-n", itoa(numRecords))
		checkStored(t, addr, topic, codec, numRecords)
	})
	testGroup(t, addr, "kafkapython", pythonGroup("python/kafka_python_group.py"))
}

// pythonGroup runs one of the Python group scripts with --count.
func pythonGroup(script string) groupConsumer {
	return func(t *testing.T, addr, topic, group string, n int) []groupRecord {
		return runGroupClient(t, debianPython, script, addr, topic, group, "--count", itoa(n))
	}
}

// TestConfluentKafkaPythonTransactions runs python/confluent_transactions.py:
// librdkafka's transactional producer commits, aborts and commits again,
// and read_committed / read_uncommitted consumers see the committed records
// / every record (issue 6, acceptance 3).
func TestConfluentKafkaPythonTransactions(t *testing.T) {
	t.Parallel()
	requirePython(t, "confluent_kafka")
	addr := startBroker(t)
	runClient(t, debianPython, "python/confluent_transactions.py", addr, "py-txn")
}
