package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// metaProps is a data dir's identity, kept in meta.properties as Kafka keeps
// it (version 1, KRaft).
type metaProps struct {
	clusterID   string
	nodeID      int32
	directoryID string
}

// loadOrFormat reads meta.properties, or formats a new data dir. It refuses
// a data dir that belongs to another node. With member set (a node of a
// multi-node quorum) a new data dir is not written yet and its cluster id is
// empty: the cluster id is the one in the replicated metadata log, and the
// caller writes meta.properties once it knows it (formatMember).
func loadOrFormat(dataDir string, nodeID int32, member bool) (metaProps, error) {
	path := filepath.Join(dataDir, "meta.properties")
	f, err := os.Open(path)
	if os.IsNotExist(err) && member {
		return metaProps{nodeID: nodeID, directoryID: metadata.RandomUuid().String()}, nil
	}
	if os.IsNotExist(err) {
		entries, _ := os.ReadDir(dataDir)
		for _, e := range entries {
			if e.Name() == "__cluster_metadata-0" {
				return metaProps{}, fmt.Errorf("data dir %s has a metadata log but no meta.properties; refusing to format over it", dataDir)
			}
		}
		m := metaProps{clusterID: metadata.RandomUuid().String(), nodeID: nodeID, directoryID: metadata.RandomUuid().String()}
		return m, writeMetaProps(path, m)
	}
	if err != nil {
		return metaProps{}, fmt.Errorf("meta.properties: %w", err)
	}
	defer f.Close()
	props, err := config.ParseProperties(f)
	if err != nil {
		return metaProps{}, fmt.Errorf("%s: %w", path, err)
	}
	if v := props["version"]; v != "1" {
		return metaProps{}, fmt.Errorf("%s: unsupported version %q (Samsa reads KRaft meta.properties version 1)", path, v)
	}
	id, err := strconv.ParseInt(props["node.id"], 10, 32)
	if err != nil {
		return metaProps{}, fmt.Errorf("%s: bad node.id %q", path, props["node.id"])
	}
	m := metaProps{clusterID: props["cluster.id"], nodeID: int32(id), directoryID: props["directory.id"]}
	if m.clusterID == "" {
		return metaProps{}, fmt.Errorf("%s: no cluster.id", path)
	}
	if m.nodeID != nodeID {
		return metaProps{}, fmt.Errorf("data dir %s belongs to node %d, but this node is configured as node.id %d; refusing to start", dataDir, m.nodeID, nodeID)
	}
	return m, nil
}

// formatMember writes meta.properties for a quorum member that learned its
// cluster id from the metadata log.
func formatMember(dataDir string, m metaProps) error {
	return writeMetaProps(filepath.Join(dataDir, "meta.properties"), m)
}

func writeMetaProps(path string, m metaProps) error {
	body := fmt.Sprintf("#\n#%s\ncluster.id=%s\ndirectory.id=%s\nnode.id=%d\nversion=1\n",
		time.Now().UTC().Format(time.UnixDate), m.clusterID, m.directoryID, m.nodeID)
	if err := fs.WriteFileAtomic(fs.OS(), path, []byte(body)); err != nil {
		return fmt.Errorf("format data dir: %w", err)
	}
	return nil
}

// cleanShutdownFile is Kafka's clean-shutdown marker: present only after a
// clean stop, it lets the next start skip log recovery.
const cleanShutdownFile = ".kafka_cleanshutdown"

// takeMarker reports whether the data dir holds the clean-shutdown marker,
// and removes it: until this run stops cleanly, the logs need recovery.
func takeMarker(dataDir string) (clean bool, err error) {
	path := filepath.Join(dataDir, cleanShutdownFile)
	if _, err := os.Stat(path); err != nil {
		return false, nil
	}
	if err := os.Remove(path); err != nil {
		return false, fmt.Errorf("remove clean-shutdown marker: %w", err)
	}
	// The removal must be durable before any log is written: a marker
	// that came back after a power loss would skip recovery of torn logs.
	if err := fs.OS().SyncDir(dataDir); err != nil {
		return false, fmt.Errorf("remove clean-shutdown marker: %w", err)
	}
	return true, nil
}

func writeMarker(dataDir string) error {
	return fs.WriteFileAtomic(fs.OS(), filepath.Join(dataDir, cleanShutdownFile), nil)
}
