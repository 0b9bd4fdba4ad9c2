package api

// DescribeLogDirs (key 35; KIP-113, KIP-827 for total and usable bytes):
// the log directory with each hosted partition's size.

import (
	"context"
	"syscall"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.DescribeLogDirs, 1, 4, handleDescribeLogDirs) }

func handleDescribeLogDirs(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.DescribeLogDirsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	dir := kmsg.NewDescribeLogDirsResponseDir()
	dir.Dir = h.deps.LogDir
	dir.TotalBytes, dir.UsableBytes = diskSpace(h.deps.LogDir)
	im := h.image()
	want := func(topic string, p int32) bool { return true }
	if r.Topics != nil {
		asked := map[string]map[int32]bool{}
		for _, t := range r.Topics {
			asked[t.Topic] = map[int32]bool{}
			for _, p := range t.Partitions {
				asked[t.Topic][p] = true
			}
		}
		want = func(topic string, p int32) bool { return asked[topic][p] }
	}
	for _, name := range im.TopicNames() {
		dt := kmsg.NewDescribeLogDirsResponseDirTopic()
		dt.Topic = name
		for i := range im.Topic(name).Partitions {
			part, err := h.deps.Partition(name, int32(i))
			if err != nil || !want(name, int32(i)) {
				continue
			}
			dp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
			dp.Partition, dp.Size = int32(i), part.Size()
			dt.Partitions = append(dt.Partitions, dp)
		}
		if len(dt.Partitions) > 0 {
			dir.Topics = append(dir.Topics, dt)
		}
	}
	resp.Dirs = append(resp.Dirs, dir)
	return now(resp)
}

// diskSpace is the file system's total and available bytes, -1 unknown.
func diskSpace(path string) (total, usable int64) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return -1, -1
	}
	return int64(st.Blocks) * st.Bsize, int64(st.Bavail) * st.Bsize
}
