package consume

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestTemplates(t *testing.T) {
	r := &kgo.Record{
		Topic: "t", Partition: 2, Offset: 41, Key: []byte("k"), Value: []byte("v a l"),
		Timestamp: time.UnixMilli(1700000000123),
		Headers:   []kgo.RecordHeader{{Key: "h1", Value: []byte("x")}, {Key: "h2"}},
	}
	for tmpl, want := range map[string]string{
		DefaultTemplate:          "v a l\n",
		"text":                   "v a l\n",
		`%t/%p/%o %k=%s`:         "t/2/41 k=v a l",
		`%T\t%h\r\n`:             "1700000000123\th1=x,h2=\r\n",
		`%K %S %% \\ done`:       "1 5 % \\ done",
		`plain`:                  "plain",
		"100%%: %v":              "100%: v a l",
		`%k%v%k`:                 "kv a lk",
		"multi-byte é %v":        "multi-byte é v a l",
		`{"k":"%k"}` + "\n" + "": "{\"k\":\"k\"}\n",
	} {
		p, err := newPrinter(tmpl)
		if err != nil {
			t.Fatalf("%q: %v", tmpl, err)
		}
		if got := string(p(nil, r)); got != want {
			t.Errorf("%q printed %q, want %q", tmpl, got, want)
		}
	}
	for _, bad := range []string{"%x", "%", `\`, `\q`, "ends with %"} {
		if _, err := newPrinter(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestJSONRecord(t *testing.T) {
	p, _ := newPrinter("json")
	r := &kgo.Record{Topic: "t", Offset: 3, Value: []byte("tab\there \"q\""), Timestamp: time.UnixMilli(5),
		Headers: []kgo.RecordHeader{{Key: "n"}}}
	want := `{"topic":"t","partition":0,"offset":3,"timestamp":5,"key":null,"value":"tab\there \"q\"","headers":[{"key":"n","value":null}]}` + "\n"
	if got := string(p(nil, r)); got != want {
		t.Errorf("json:\n%s\nwant\n%s", got, want)
	}
	if got := string(p(nil, &kgo.Record{Timestamp: time.UnixMilli(0)})); !strings.Contains(got, `"headers":[]`) {
		t.Errorf("no headers print as an empty list: %s", got)
	}
}

func TestOffsets(t *testing.T) {
	// A partition holding [10, 20); a timestamp lookup landing at 15.
	for spec, want := range map[string]int64{
		"start": 10, "oldest": 10, "end": 20, "newest": 20,
		"12": 12, "3": 10, "25": 20, "+4": 14, "+40": 20, "-3": 17, "-30": 10,
		"+9223372036854775807": 20, "-9223372036854775807": 10,
		"@1700000000000": 15, "@2023-11-14T22:13:20Z": 15,
	} {
		s, err := parseOffset(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if got := s.resolve(10, 20, 15); got != want {
			t.Errorf("%s resolves to %d, want %d", spec, got, want)
		}
	}
	if s, _ := parseOffset("@2023-11-14T22:13:20.5Z"); s.n != 1700000000500 {
		t.Errorf("RFC 3339 with a fraction: %d ms", s.n)
	}
	for _, bad := range []string{"", "soon", "-", "+x", "1.5", "@", "@yesterday", "@-5", "--3"} {
		if _, err := parseOffset(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
