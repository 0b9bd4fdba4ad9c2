package kit

import (
	"encoding/base64"
	"io"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
)

// ConfigEntry is one config of a topic or broker as DescribeConfigs
// reports it; Source is Kafka's name for where the value comes from
// (DEFAULT_CONFIG, DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG, ...).
type ConfigEntry struct {
	Name      string  `json:"name"`
	Value     *string `json:"value"`
	Source    string  `json:"source"`
	Sensitive bool    `json:"sensitive"`
}

// ConfigEntries converts described configs, sorted by name.
func ConfigEntries(cs []kadm.Config) []ConfigEntry {
	out := make([]ConfigEntry, 0, len(cs))
	for _, c := range cs {
		out = append(out, ConfigEntry{Name: c.Key, Value: c.Value, Source: c.Source.String(), Sensitive: c.Sensitive})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// PrintConfigs prints configs as a KEY VALUE SOURCE table.
func PrintConfigs(w io.Writer, cs []ConfigEntry) error {
	t := NewTable(w, "key", "value", "source")
	for _, c := range cs {
		v := "-"
		switch {
		case c.Sensitive:
			v = "(sensitive)"
		case c.Value != nil:
			v = *c.Value
		}
		t.Row(c.Name, v, c.Source)
	}
	return t.Flush()
}

// TopicIDString prints a topic ID as Kafka does: URL-safe base64 without
// padding.
func TopicIDString(id kadm.TopicID) string {
	return base64.RawURLEncoding.EncodeToString(id[:])
}
