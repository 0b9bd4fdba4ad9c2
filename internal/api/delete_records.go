package api

// DeleteRecords (key 21; KIP-107): raises partitions' log start offsets.
// An offset of -1 means the high watermark; past it is
// OFFSET_OUT_OF_RANGE. The answer is the new low watermark.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.DeleteRecords, 0, 2, handleDeleteRecords) }

func handleDeleteRecords(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.DeleteRecordsRequest)
	resp := r.ResponseKind().(*kmsg.DeleteRecordsResponse)
	for _, rt := range r.Topics {
		t := kmsg.NewDeleteRecordsResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			out := kmsg.NewDeleteRecordsResponseTopicPartition()
			out.Partition, out.LowWatermark = rp.Partition, -1
			p, err := h.deps.Partition(rt.Topic, rp.Partition)
			if err == nil {
				out.LowWatermark, err = p.DeleteRecordsBefore(rp.Offset)
			}
			out.ErrorCode = errCode(err)
			t.Partitions = append(t.Partitions, out)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return now(resp)
}
