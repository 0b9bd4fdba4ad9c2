package cli_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestProduceConsumeKeysAndHeaders(t *testing.T) {
	_, c := start(t)
	c.ok("", "topic", "create", "greetings", "-p", "1")
	before := time.Now().UnixMilli()
	r := c.exec("k1:hello\nk2:world:again\nnokey\n:\n", "produce", "greetings", "-K", ":", "-H", "source=cli", "-H", "n=1")
	after := time.Now().UnixMilli()
	if r.err != nil || !strings.Contains(r.stderr, "produced 4 records to greetings, 0 failed") || r.stdout != "" {
		t.Fatalf("produce: err %v, stdout %q, stderr %q", r.err, r.stdout, r.stderr)
	}

	// The template: every verb, with escapes.
	out := c.ok("", "consume", "greetings", "-n", "4", "-f", `%t|%p|%o|%k|%v|%h|%K|%S\t%%\n`)
	want := "greetings|0|0|k1|hello|source=cli,n=1|2|5\t%\n" +
		"greetings|0|1|k2|world:again|source=cli,n=1|2|11\t%\n" +
		"greetings|0|2||nokey|source=cli,n=1|0|5\t%\n" +
		"greetings|0|3|||source=cli,n=1|0|0\t%\n"
	if out != want {
		t.Errorf("consume -f printed\n%q\nwant\n%q", out, want)
	}
	// The default prints values, one a line.
	if out := c.ok("", "consume", "greetings", "-n", "2"); out != "hello\nworld:again\n" {
		t.Errorf("consume with the default template printed %q", out)
	}

	recs := c.consumeJSON("greetings", "-n", "4")
	if len(recs) != 4 {
		t.Fatalf("consume --format json: %d records, want 4", len(recs))
	}
	wantKV := [][2]string{{"k1", "hello"}, {"k2", "world:again"}, {"<nil>", "nokey"}, {"", ""}}
	for i, rec := range recs {
		if rec.Topic != "greetings" || rec.Partition != 0 || rec.Offset != int64(i) ||
			str(rec.Key) != wantKV[i][0] || str(rec.Value) != wantKV[i][1] {
			t.Errorf("record %d: %+v (key %s, value %s), want key %s value %s", i, rec, str(rec.Key), str(rec.Value), wantKV[i][0], wantKV[i][1])
		}
		if rec.Timestamp < before || rec.Timestamp > after {
			t.Errorf("record %d: timestamp %d outside the produce call [%d, %d]", i, rec.Timestamp, before, after)
		}
		if len(rec.Headers) != 2 || rec.Headers[0].Key != "source" || str(rec.Headers[0].Value) != "cli" ||
			rec.Headers[1].Key != "n" || str(rec.Headers[1].Value) != "1" {
			t.Errorf("record %d: headers %+v", i, rec.Headers)
		}
	}
}

func TestProduceCompressionAcksAndPartitions(t *testing.T) {
	_, c := start(t)
	c.ok("", "topic", "create", "many", "-p", "3")
	var lines strings.Builder
	for i := range 60 {
		fmt.Fprintf(&lines, "key%d:value%d\n", i%6, i)
	}
	for _, z := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		for _, acks := range []string{"all", "1", "0"} {
			r := c.exec(lines.String(), "produce", "many", "-K:", "--compression", z, "--acks", acks)
			if r.err != nil || !strings.Contains(r.stderr, "produced 60 records to many, 0 failed") {
				t.Fatalf("produce --compression %s --acks %s: %v %s", z, acks, r.err, r.stderr)
			}
		}
	}
	const total = 60 * 15
	// acks=0 gets no answer: the records are counted once the broker holds them.
	var d describedTopic
	for deadline := time.Now().Add(5 * time.Second); ; {
		d = c.describe("many")
		var sum int64
		for _, p := range d.Partitions {
			sum += p.HighWatermark
		}
		if sum == total || time.Now().After(deadline) {
			if sum != total {
				t.Fatalf("the partitions hold %d records, want %d", sum, total)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Every record is there, every codec decoded, and a key always lands
	// on the same partition.
	recs := c.consumeJSON("many", "-e")
	if len(recs) != total {
		t.Fatalf("consume -e: %d records, want %d", len(recs), total)
	}
	partOf := map[string]int32{}
	seen := map[string]int{}
	for _, r := range recs {
		k := str(r.Key)
		if p, ok := partOf[k]; ok && p != r.Partition {
			t.Errorf("key %s on partitions %d and %d", k, p, r.Partition)
		}
		partOf[k] = r.Partition
		seen[str(r.Value)]++
	}
	for i := range 60 {
		if n := seen[fmt.Sprintf("value%d", i)]; n != 15 {
			t.Errorf("value%d consumed %d times, want 15", i, n)
		}
	}

	// --partitions reads only those, and all of them.
	only := c.consumeJSON("many", "--partitions", "0,2", "-e")
	want := d.Partitions[0].HighWatermark + d.Partitions[2].HighWatermark
	if int64(len(only)) != want {
		t.Errorf("--partitions 0,2: %d records, want %d", len(only), want)
	}
	for _, r := range only {
		if r.Partition == 1 {
			t.Fatalf("--partitions 0,2 printed a record of partition 1")
		}
	}
	if msg, _ := c.fails("", "consume", "many", "--partitions", "3", "-e"); !strings.Contains(msg, "no partition 3") {
		t.Errorf("--partitions 3 of 3: %s", msg)
	}
	if msg, _ := c.fails("x\n", "produce", "many", "--partition", "3"); !strings.Contains(msg, "partitions 0 to 2") {
		t.Errorf("--partition 3 of 3: %s", msg)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--compression", "brotli"}, "want none, gzip, snappy, lz4 or zstd"},
		{[]string{"--acks", "2"}, "want all, 1 or 0"},
		{[]string{"-H", "novalue"}, "want key=value"},
	} {
		if msg, _ := c.fails("x\n", append([]string{"produce", "many"}, bad.args...)...); !strings.Contains(msg, bad.want) {
			t.Errorf("produce %v: %q, want %q", bad.args, msg, bad.want)
		}
	}
}

func TestProduceFailedRecordsExitNonZero(t *testing.T) {
	_, c := start(t)
	c.ok("", "topic", "create", "small", "-c", "max.message.bytes=200")
	c.ok("fits\n", "produce", "small")
	r := c.exec(strings.Repeat("x", 1000)+"\n", "produce", "small")
	if r.err == nil || !strings.Contains(r.err.Error(), "1 of 1 records failed") {
		t.Fatalf("a record over max.message.bytes: err %v, stderr %q", r.err, r.stderr)
	}
	if !strings.Contains(r.stderr, "line 1: MESSAGE_TOO_LARGE") || !strings.Contains(r.stderr, "produced 0 records to small, 1 failed") {
		t.Errorf("stderr does not name the failed line and the count:\n%s", r.stderr)
	}
	if got := c.ok("", "consume", "small", "-e"); got != "fits\n" {
		t.Errorf("the topic holds %q, want only the record that fit", got)
	}
}

func TestConsumeFromOffsetAndTime(t *testing.T) {
	_, c := start(t)
	c.ok("", "topic", "create", "log", "-p", "1")
	c.ok("r0\nr1\nr2\nr3\nr4\n", "produce", "log")
	time.Sleep(5 * time.Millisecond)
	mark := time.Now().UnixMilli()
	time.Sleep(5 * time.Millisecond)
	c.ok("r5\nr6\nr7\nr8\nr9\n", "produce", "log")

	values := func(args ...string) string {
		t.Helper()
		out := c.ok("", append([]string{"consume", "log", "-e", "-f", `%o=%v `}, args...)...)
		return strings.TrimSpace(out)
	}
	for _, tc := range []struct {
		offset, want string
	}{
		{"start", "0=r0 1=r1 2=r2 3=r3 4=r4 5=r5 6=r6 7=r7 8=r8 9=r9"},
		{"7", "7=r7 8=r8 9=r9"},
		{"+8", "8=r8 9=r9"},
		{"-2", "8=r8 9=r9"},
		{"-20", "0=r0 1=r1 2=r2 3=r3 4=r4 5=r5 6=r6 7=r7 8=r8 9=r9"},
		{"42", ""},
		{"end", ""},
		{fmt.Sprintf("@%d", mark), "5=r5 6=r6 7=r7 8=r8 9=r9"},
		{"@0", "0=r0 1=r1 2=r2 3=r3 4=r4 5=r5 6=r6 7=r7 8=r8 9=r9"},
		{fmt.Sprintf("@%d", time.Now().Add(time.Hour).UnixMilli()), ""},
	} {
		if got := values("--offset", tc.offset); got != tc.want {
			t.Errorf("--offset %s: %q, want %q", tc.offset, got, tc.want)
		}
	}
	rfc := time.UnixMilli(mark).UTC().Format(time.RFC3339Nano)
	if got := values("--from-time", rfc); got != "5=r5 6=r6 7=r7 8=r8 9=r9" {
		t.Errorf("--from-time %s: %q", rfc, got)
	}
	if got := values("-o", "3", "-n", "2"); got != "3=r3 4=r4" {
		t.Errorf("-o 3 -n 2: %q", got)
	}
	for _, bad := range [][]string{{"-o", "soon"}, {"--from-time", "yesterday"}, {"-o", "1", "--from-time", rfc}, {"-f", "%x"}, {"-f", `\q`}} {
		if msg, _ := c.fails("", append([]string{"consume", "log", "-e"}, bad...)...); msg == "" {
			t.Errorf("%v: empty error", bad)
		}
	}
}
