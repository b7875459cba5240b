package partition

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	sfs "github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// PartitionMetadataFile names the file that records, in every partition
// directory, the id of the topic the directory belongs to (Kafka's
// PartitionMetadataFile, KIP-516).
const PartitionMetadataFile = "partition.metadata"

// StraySuffix ends the name of a directory set aside because the cluster
// image does not own it (Kafka's LocalLog.StrayDirSuffix).
const StraySuffix = "-stray"

// ErrTopicIDMismatch: a partition directory belongs to another topic of
// the same name (an older incarnation, or data copied in); Open refuses to
// adopt it.
var ErrTopicIDMismatch = errors.New("partition: directory belongs to another topic id")

// EncodePartitionMetadata is the partition.metadata text for id, byte for
// byte what Kafka's PartitionMetadata.encode writes (version 0).
func EncodePartitionMetadata(id metadata.Uuid) []byte {
	return []byte("version: 0\ntopic_id: " + id.String() + "\n")
}

// DecodePartitionMetadata parses partition.metadata as Kafka's
// PartitionMetadataReadBuffer does: two lines "key: value", a version of
// at least 0, and a non-zero topic id.
func DecodePartitionMetadata(b []byte) (metadata.Uuid, error) {
	lines := strings.Split(strings.TrimSuffix(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n"), "\n")
	if len(lines) != 2 {
		return metadata.Uuid{}, fmt.Errorf("partition: malformed %s: %d lines", PartitionMetadataFile, len(lines))
	}
	value := func(line, key string) (string, error) {
		k, v, ok := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		if !ok || k != key || v == "" || strings.ContainsAny(v, " \t") {
			return "", fmt.Errorf("partition: malformed line in %s: %q", PartitionMetadataFile, line)
		}
		return v, nil
	}
	vs, err := value(lines[0], "version")
	if err != nil {
		return metadata.Uuid{}, err
	}
	if v, err := strconv.Atoi(vs); err != nil || v < 0 {
		return metadata.Uuid{}, fmt.Errorf("partition: unrecognized version of %s: %q", PartitionMetadataFile, vs)
	}
	ids, err := value(lines[1], "topic_id")
	if err != nil {
		return metadata.Uuid{}, err
	}
	id, err := metadata.ParseUuid(ids)
	if err != nil {
		return metadata.Uuid{}, fmt.Errorf("partition: %s: %w", PartitionMetadataFile, err)
	}
	if id.IsZero() {
		return metadata.Uuid{}, fmt.Errorf("partition: invalid topic id in %s", PartitionMetadataFile)
	}
	return id, nil
}

// readTopicID reads dir's partition.metadata; ok is false when there is
// none.
func readTopicID(fsys sfs.FS, dir string) (id metadata.Uuid, ok bool, err error) {
	b, err := readFile(fsys, filepath.Join(dir, PartitionMetadataFile))
	if errors.Is(err, fs.ErrNotExist) {
		return metadata.Uuid{}, false, nil
	}
	if err != nil {
		return metadata.Uuid{}, false, err
	}
	id, err = DecodePartitionMetadata(b)
	return id, err == nil, err
}

// claimDir makes dir (created if needed) belong to topic id: a directory
// without partition.metadata is adopted (it gets one); one that names
// another id is refused with ErrTopicIDMismatch. The file is written
// (atomically, fsynced) before the log is opened, so before any append.
func claimDir(fsys sfs.FS, dir string, id metadata.Uuid) error {
	got, ok, err := readTopicID(fsys, dir)
	switch {
	case err != nil:
		return fmt.Errorf("%w: %s: %w", ErrTopicIDMismatch, dir, err)
	case ok && got != id:
		return fmt.Errorf("%w: %s holds topic id %v, the image says %v", ErrTopicIDMismatch, dir, got, id)
	case ok:
		return nil
	}
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return sfs.WriteFileAtomic(fsys, filepath.Join(dir, PartitionMetadataFile), EncodePartitionMetadata(id))
}

// StrayDirName is the name a stray partition directory is renamed to,
// Kafka's LocalLog.logStrayDirName: "<topic>-<partition>.<uuid>-stray",
// the uuid a random one in hex without dashes, the topic cut short so the
// name stays within 255 bytes.
func StrayDirName(topic string, index int32) string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never returns an error
	suffix := fmt.Sprintf("-%d.%s%s", index, hex.EncodeToString(u[:]), StraySuffix)
	return topic[:min(len(topic), 255-len(suffix))] + suffix
}

// ParseDirName splits a live partition directory name, "<topic>-<n>", as
// Kafka's parseTopicPartitionName does. Directories with a suffix
// (-stray, -delete, -future), the metadata log and anything else are not
// partition directories: ok is false.
func ParseDirName(name string) (Key, bool) {
	if strings.HasPrefix(name, "__cluster_metadata") {
		return Key{}, false
	}
	i := strings.LastIndexByte(name, '-')
	if i <= 0 {
		return Key{}, false
	}
	n, err := strconv.ParseInt(name[i+1:], 10, 32)
	if err != nil || n < 0 || name[i+1:] != strconv.FormatInt(n, 10) {
		return Key{}, false
	}
	return Key{name[:i], int32(n)}, true
}

// ListDirs returns the live partition directories under dataDir.
func ListDirs(fsys sfs.FS, dataDir string) ([]Key, error) {
	ents, err := fsys.ReadDir(dataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Key
	for _, e := range ents {
		if k, ok := ParseDirName(e.Name()); ok && e.IsDir() {
			out = append(out, k)
		}
	}
	return out, nil
}

// setAside renames a partition directory to its stray name; it never
// removes anything. It returns the new path.
func setAside(fsys sfs.FS, dataDir string, k Key) (string, error) {
	to := filepath.Join(dataDir, StrayDirName(k.Topic, k.Partition))
	if err := fsys.Rename(filepath.Join(dataDir, DirName(k.Topic, k.Partition)), to); err != nil {
		return "", fmt.Errorf("set aside stray partition directory: %w", err)
	}
	if err := fsys.SyncDir(dataDir); err != nil {
		return "", fmt.Errorf("set aside stray partition directory: %w", err)
	}
	return to, nil
}

// isMismatch reports whether err says a directory belongs elsewhere.
func isMismatch(err error) bool { return errors.Is(err, ErrTopicIDMismatch) }
