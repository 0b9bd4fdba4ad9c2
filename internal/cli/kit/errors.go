package kit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// ErrFailed is returned by a command whose table already printed each
// failure: main prints it as the one-line summary and exits non-zero.
type ErrFailed struct {
	Failed, Total int
	What          string // "topics", "records", ...
}

func (e *ErrFailed) Error() string {
	return fmt.Sprintf("%d of %d %s failed", e.Failed, e.Total, e.What)
}

// Explain describes a per-resource error from a Kafka response with advice
// where there is an obvious next step. msg is the broker's error message,
// if any.
func Explain(err error, msg string) string {
	if err == nil {
		return "OK"
	}
	s := err.Error()
	var ke *kerr.Error
	switch {
	case msg == "":
	case errors.As(err, &ke) && strings.HasPrefix(msg, ke.Message):
		s = msg // the broker's message already names the code
	case errors.As(err, &ke):
		s = ke.Message + ": " + msg
	default:
		s += ": " + msg
	}
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		s += " (see `samsa topic list`)"
	case errors.Is(err, kerr.TopicAlreadyExists):
		s += " (see `samsa topic describe`)"
	case errors.Is(err, kerr.InvalidReplicationFactor):
		s += " (see `samsa cluster info` for the brokers)"
	case errors.Is(err, kerr.GroupIDNotFound):
		s += " (see `samsa group list`)"
	case errors.Is(err, kerr.NonEmptyGroup):
		s += " (the group has members: stop its consumers first; `samsa group describe` lists them)"
	}
	return s
}

// UnknownTopic is the error for a topic that does not exist.
func UnknownTopic(topic string) error {
	return fmt.Errorf("topic %q does not exist: create it with `samsa topic create %s`, or see `samsa topic list`", topic, topic)
}

// UnknownGroup is the error for a consumer group that does not exist.
func UnknownGroup(group string) error {
	return fmt.Errorf("group %q does not exist: see `samsa group list`", group)
}
