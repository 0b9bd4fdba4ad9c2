package kit

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// Format is the value of a command's --format flag: "text" (human tables)
// or "json" (for scripts).
type Format string

const (
	Text Format = "text"
	JSON Format = "json"
)

// AddFormatFlag adds --format text|json to a command that prints data.
func AddFormatFlag(cmd *cobra.Command, f *Format) {
	*f = Text
	cmd.Flags().Var((*formatValue)(f), "format", `output format: "text" (tables) or "json"`)
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

type formatValue Format

func (f *formatValue) String() string { return string(*f) }
func (f *formatValue) Type() string   { return "text|json" }
func (f *formatValue) Set(s string) error {
	switch Format(s) {
	case Text, JSON:
		*f = formatValue(s)
		return nil
	}
	return fmt.Errorf("want text or json, not %q", s)
}

// WriteJSON writes v as indented JSON and a newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Table writes aligned columns: the header in upper case, then rows.
type Table struct {
	tw *tabwriter.Writer
}

// NewTable starts a table on w with the given column headers.
func NewTable(w io.Writer, headers ...string) *Table {
	t := &Table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	if len(headers) > 0 {
		for i := range headers {
			headers[i] = strings.ToUpper(headers[i])
		}
		t.Row(anys(headers)...)
	}
	return t
}

// Row adds one row; each cell is printed with fmt's %v.
func (t *Table) Row(cells ...any) {
	for i, c := range cells {
		if i > 0 {
			fmt.Fprint(t.tw, "\t")
		}
		fmt.Fprint(t.tw, c)
	}
	fmt.Fprint(t.tw, "\n")
}

// Flush writes the table out.
func (t *Table) Flush() error { return t.tw.Flush() }

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// Section prints a section title for multi-part text output.
func Section(w io.Writer, title string) {
	fmt.Fprintln(w, strings.ToUpper(title))
	fmt.Fprintln(w, strings.Repeat("=", len(title)))
}

// Int32s formats a replica list as "1,2,3", or "-" when empty.
func Int32s(xs []int32) string {
	if len(xs) == 0 {
		return "-"
	}
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, ",")
}
