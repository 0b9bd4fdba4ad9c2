package config

import (
	"maps"
	"strings"
	"testing"
)

func TestParseProperties(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want map[string]string
	}{
		{"separators", "a=1\nb:2\nc 3\nd = 4\ne : 5\nf\t6", map[string]string{
			"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6"}},
		{"blanks trimmed around key and value", "   key   =   value   \n", map[string]string{"key": "value"}},
		{"key alone has empty value", "lonely\nalso=", map[string]string{"lonely": "", "also": ""}},
		{"comments and blank lines", "# c1\n   ! c2\n\n\t\nk=v # not a comment", map[string]string{"k": "v # not a comment"}},
		{"value keeps later separators", "url=http://h:1/p?a=b c", map[string]string{"url": "http://h:1/p?a=b c"}},
		{"later key wins", "k=1\nk=2", map[string]string{"k": "2"}},
		{"continuation drops next line's leading blanks", "k=a,\\\n     b,\\\n\tc", map[string]string{"k": "a,b,c"}},
		{"even backslashes do not continue", "k=a\\\\\nj=b", map[string]string{"k": `a\`, "j": "b"}},
		{"continuation at end of input", "k=a\\", map[string]string{"k": "a"}},
		{"comment does not continue", "# note \\\nk=v", map[string]string{"k": "v"}},
		{"continued line may start with #", "k=a\\\n#b", map[string]string{"k": "a#b"}},
		{"escapes", `k=a\tb\nc\\d\re\ff`, map[string]string{"k": "a\tb\nc\\d\re\ff"}},
		{"unicode escape", `k=caf\u00e9 \u20AC`, map[string]string{"k": "café €"}},
		{"surrogate pair", `k=\uD83D\uDE00`, map[string]string{"k": "😀"}},
		{"other escapes stand for the character", `k=\q\"`, map[string]string{"k": `q"`}},
		{"escaped separators in key", `a\=b=1` + "\n" + `c\:d:2` + "\n" + `e\ f 3`, map[string]string{
			"a=b": "1", "c:d": "2", "e f": "3"}},
		{"CRLF and CR line ends", "a=1\r\nb=2\rc=3\r\n", map[string]string{"a": "1", "b": "2", "c": "3"}},
		{"empty input", "", map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProperties(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParsePropertiesMalformedUnicode(t *testing.T) {
	for _, in := range []string{"a=1\nk=\\u12", "a=1\nk=\\uzzzz"} {
		_, err := ParseProperties(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), `\u`) {
			t.Errorf("%q: got %v, want a malformed \\u error on line 2", in, err)
		}
	}
}

// A Kafka 4.x single-node server.properties loads and validates as is.
func TestKafkaServerPropertiesLoads(t *testing.T) {
	const file = `
# KRaft mode, combined node
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:9093
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs=/tmp/kraft-combined-logs
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
#log.flush.interval.messages=10000
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
`
	props, err := ParseProperties(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	v, err := ValidateBroker(props)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.List("log.dirs"); len(got) != 1 || got[0] != "/tmp/kraft-combined-logs" {
		t.Errorf("log.dirs = %q", got)
	}
	if got := v.Long("log.retention.ms"); got != 168*hourMs {
		t.Errorf("log.retention.ms = %d, want %d", got, 168*hourMs)
	}
	if got := v.Source("log.retention.ms"); got != SourceStaticBroker {
		t.Errorf("log.retention.ms source = %v", got)
	}
}
