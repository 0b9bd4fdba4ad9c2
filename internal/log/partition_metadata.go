package log

import (
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/samsa-io/samsa/internal/vfs"
)

// partitionMetadataFile names the topic id a partition's log belongs to, in
// Kafka's format (KIP-516): "version: 0\ntopic_id: <id>\n". A log whose id
// differs from the topic of the same name in the metadata belongs to a
// deleted topic and must not be served as the new one.
const partitionMetadataFile = "partition.metadata"

// SetTopicID records the topic id of a partition's log durably.
func (d *Dir) SetTopicID(tp TopicPartition, id string) error {
	l := d.Log(tp)
	if l == nil {
		return fmt.Errorf("log: no partition %s", tp.DirName())
	}
	data := fmt.Sprintf("version: 0\ntopic_id: %s\n", id)
	return vfs.WriteAtomic(d.fs, path.Join(l.Dir(), partitionMetadataFile), []byte(data))
}

// TopicID returns the topic id recorded for a partition's log, or "" when
// none was recorded.
func (d *Dir) TopicID(tp TopicPartition) (string, error) {
	l := d.Log(tp)
	if l == nil {
		return "", fmt.Errorf("log: no partition %s", tp.DirName())
	}
	f, err := d.fs.Open(path.Join(l.Dir(), partitionMetadataFile))
	if vfs.IsNotExist(err) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	defer f.Close()
	buf := make([]byte, 256)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return "", err
	}
	for _, line := range strings.Split(string(buf[:n]), "\n") {
		if id, ok := strings.CutPrefix(line, "topic_id: "); ok {
			return strings.TrimSpace(id), nil
		}
	}
	return "", fmt.Errorf("log: %s has no topic_id", path.Join(l.Dir(), partitionMetadataFile))
}
