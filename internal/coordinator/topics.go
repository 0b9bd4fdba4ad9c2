package coordinator

import (
	"github.com/samsa-io/samsa/internal/coordinator/group"
	"github.com/samsa-io/samsa/internal/metadata"
)

// topicsCache is the cluster's topics as consumer groups see them, built
// once per metadata image.
type topicsCache struct {
	image  *metadata.Image
	topics *group.Topics
}

// topics returns the topics of the current image, rebuilding them when the
// image changed.
func (c *Coordinator) topics() *group.Topics {
	im := c.cfg.Image()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.topics.image == im && c.mu.topics.topics != nil {
		return c.mu.topics.topics
	}
	var ts []group.TopicMeta
	for _, name := range im.TopicNames() {
		t := im.Topic(name)
		ts = append(ts, group.TopicMeta{Name: name, ID: t.ID, Partitions: int32(len(t.Partitions))})
	}
	c.mu.topics = topicsCache{image: im, topics: group.NewTopicsAt(im.Index, ts)}
	return c.mu.topics.topics
}
