package kit

import (
	"sort"

	"github.com/spf13/cobra"
)

// Result is the outcome of an admin operation on one resource.
type Result struct {
	Name  string `json:"name"`
	Error string `json:"error,omitempty"`
}

// NewResult makes a result from a Kafka response's error and message.
func NewResult(name string, err error, msg string) Result {
	r := Result{Name: name}
	if err != nil {
		r.Error = Explain(err, msg)
	}
	return r
}

// PrintResults prints one row per resource (column header names the
// resource: "topic", "broker") with OK or the error, sorted by name, and
// returns an *ErrFailed if any failed so that the exit status says so.
func PrintResults(cmd *cobra.Command, f Format, header string, rs []Result) error {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Name < rs[j].Name })
	failed := 0
	for _, r := range rs {
		if r.Error != "" {
			failed++
		}
	}
	if f == JSON {
		if err := WriteJSON(cmd.OutOrStdout(), rs); err != nil {
			return err
		}
	} else {
		t := NewTable(cmd.OutOrStdout(), header, "status")
		for _, r := range rs {
			status := "OK"
			if r.Error != "" {
				status = r.Error
			}
			t.Row(r.Name, status)
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	if failed > 0 {
		return &ErrFailed{Failed: failed, Total: len(rs), What: header + "s"}
	}
	return nil
}
