package cluster

import (
	"context"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

// info is `cluster info --format json`.
type info struct {
	ClusterID      string   `json:"cluster_id"`
	Controller     int32    `json:"controller"`
	Brokers        []broker `json:"brokers"`
	Topics         int      `json:"topics"`
	InternalTopics int      `json:"internal_topics"`
}

type broker struct {
	ID   int32   `json:"id"`
	Host string  `json:"host"`
	Port int32   `json:"port"`
	Rack *string `json:"rack"`
}

func infoCommand() *cobra.Command {
	var format kit.Format
	cmd := &cobra.Command{
		Use:     "info",
		Aliases: []string{"metadata"},
		Short:   "Show the cluster id, the controller, the brokers with their addresses and racks, and the topic count",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return kit.WithAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				md, err := adm.Metadata(ctx)
				if err != nil {
					return err
				}
				out := info{ClusterID: md.Cluster, Controller: md.Controller, Brokers: []broker{}}
				for _, b := range md.Brokers {
					out.Brokers = append(out.Brokers, broker{ID: b.NodeID, Host: b.Host, Port: b.Port, Rack: b.Rack})
				}
				sort.Slice(out.Brokers, func(i, j int) bool { return out.Brokers[i].ID < out.Brokers[j].ID })
				for _, t := range md.Topics {
					if t.IsInternal {
						out.InternalTopics++
					} else {
						out.Topics++
					}
				}
				if format == kit.JSON {
					return kit.WriteJSON(cmd.OutOrStdout(), out)
				}
				return printInfo(cmd, out)
			})
		},
	}
	kit.AddFormatFlag(cmd, &format)
	return cmd
}

func printInfo(cmd *cobra.Command, in info) error {
	w := cmd.OutOrStdout()
	kit.Section(w, "cluster")
	t := kit.NewTable(w)
	t.Row("ID", in.ClusterID)
	t.Row("CONTROLLER", in.Controller)
	t.Row("TOPICS", fmt.Sprintf("%d (and %d internal)", in.Topics, in.InternalTopics))
	if err := t.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	kit.Section(w, "brokers")
	t = kit.NewTable(w, "id", "host", "port", "rack")
	for _, b := range in.Brokers {
		id := fmt.Sprint(b.ID)
		if b.ID == in.Controller {
			id += "*"
		}
		rack := "-"
		if b.Rack != nil {
			rack = *b.Rack
		}
		t.Row(id, b.Host, b.Port, rack)
	}
	return t.Flush()
}
