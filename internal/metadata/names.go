package metadata

import "fmt"

// MaxTopicNameLength is Kafka's limit: a partition directory name with its
// "-NNNN" suffix must fit in 255 bytes.
const MaxTopicNameLength = 249

// ValidTopicName applies Kafka's topic name rules.
func ValidTopicName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("topic name is empty")
	case name == "." || name == "..":
		return fmt.Errorf("topic name cannot be %q", name)
	case len(name) > MaxTopicNameLength:
		return fmt.Errorf("topic name is %d characters, the limit is %d", len(name), MaxTopicNameLength)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("topic name %q has character %q; legal are ASCII letters, digits, '.', '_' and '-'", name, r)
		}
	}
	return nil
}
