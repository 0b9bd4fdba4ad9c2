package broker

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/vfs"
)

// metaPropertiesFile holds the ids of a log directory, in Kafka's format
// (version=1, cluster.id, node.id, directory.id). Kafka needs
// `kafka-storage format` first; Samsa formats an empty directory on its
// first start so that one command runs a node.
const metaPropertiesFile = "meta.properties"

// metadataDirName holds the metadata quorum's files inside the data
// directory. It has no "-N" suffix, so it is never taken for a partition.
const metadataDirName = "__cluster_metadata"

// MetaProperties are a data directory's ids.
type MetaProperties struct {
	ClusterID   string
	NodeID      int32
	DirectoryID string
}

// loadOrFormat reads meta.properties, or writes a new one in an empty
// directory with clusterID (a fresh one when empty). A node id or cluster
// id that differs from the file's is an error: the directory belongs to
// another node or cluster.
func loadOrFormat(fsys vfs.FS, dir string, nodeID int32, clusterID string) (MetaProperties, error) {
	name := path.Join(dir, metaPropertiesFile)
	if err := fsys.MkdirAll(dir); err != nil {
		return MetaProperties{}, err
	}
	data, err := vfs.ReadAll(fsys, name)
	if vfs.IsNotExist(err) {
		if clusterID == "" {
			clusterID = metadata.NewUUID().String()
		}
		m := MetaProperties{ClusterID: clusterID, NodeID: nodeID, DirectoryID: metadata.NewUUID().String()}
		return m, writeMeta(fsys, dir, m)
	}
	if err != nil {
		return MetaProperties{}, err
	}
	m, err := parseMeta(string(data))
	if err != nil {
		return m, fmt.Errorf("%s: %w", name, err)
	}
	if m.NodeID != nodeID {
		return m, fmt.Errorf("%s belongs to node.id %d, but this node is node.id %d", name, m.NodeID, nodeID)
	}
	if clusterID != "" && m.ClusterID != clusterID {
		return m, fmt.Errorf("%s belongs to cluster %s, but controller.quorum.voters makes this cluster %s; use an empty directory for a new cluster", name, m.ClusterID, clusterID)
	}
	return m, nil
}

func parseMeta(s string) (MetaProperties, error) {
	var m MetaProperties
	kv := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return m, fmt.Errorf("bad line %q", line)
		}
		kv[k] = v
	}
	if kv["version"] != "1" {
		return m, fmt.Errorf("version %q, want 1", kv["version"])
	}
	id, err := strconv.ParseInt(kv["node.id"], 10, 32)
	if err != nil {
		return m, fmt.Errorf("node.id %q", kv["node.id"])
	}
	if kv["cluster.id"] == "" {
		return m, fmt.Errorf("no cluster.id")
	}
	return MetaProperties{ClusterID: kv["cluster.id"], NodeID: int32(id), DirectoryID: kv["directory.id"]}, nil
}

func writeMeta(fsys vfs.FS, dir string, m MetaProperties) error {
	data := fmt.Sprintf("#\n#Written by Samsa\nversion=1\ncluster.id=%s\nnode.id=%d\ndirectory.id=%s\n", m.ClusterID, m.NodeID, m.DirectoryID)
	return vfs.WriteAtomic(fsys, path.Join(dir, metaPropertiesFile), []byte(data))
}

// cleanShutdownFile marks a clean stop (KIP-966): it holds the broker
// epoch the node had, which its next registration names as its previous
// epoch. A start removes it, so a crash leaves none.
const cleanShutdownFile = "clean-shutdown"

// takeCleanShutdown reads and removes the clean-shutdown marker; -1 when
// there is none (the last stop was a crash, or this is the first start).
func takeCleanShutdown(fsys vfs.FS, dir string) (int64, error) {
	name := path.Join(dir, cleanShutdownFile)
	data, err := vfs.ReadAll(fsys, name)
	if vfs.IsNotExist(err) {
		return -1, nil
	}
	if err != nil {
		return -1, err
	}
	var m struct {
		Version     int   `json:"version"`
		BrokerEpoch int64 `json:"brokerEpoch"`
	}
	if err := json.Unmarshal(data, &m); err != nil || m.Version != 0 {
		m.BrokerEpoch = -1 // unreadable: count the stop as unclean
	}
	if err := fsys.Remove(name); err != nil {
		return -1, err
	}
	return m.BrokerEpoch, fsys.SyncDir(dir)
}

// markCleanShutdown writes the clean-shutdown marker with epoch.
func markCleanShutdown(fsys vfs.FS, dir string, epoch int64) error {
	return vfs.WriteAtomic(fsys, path.Join(dir, cleanShutdownFile), fmt.Appendf(nil, `{"version":0,"brokerEpoch":%d}`+"\n", epoch))
}
