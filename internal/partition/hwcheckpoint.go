package partition

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/samsa-streaming/samsa/internal/fs"
)

// hwCheckpointFile is Kafka's replication-offset-checkpoint: the high
// watermark of every partition in the log directory, so that a restarted
// replica does not treat uncommitted records as committed.
const hwCheckpointFile = "replication-offset-checkpoint"

// maxHWCheckpoint bounds the file read at startup.
const maxHWCheckpoint = 256 << 20

// loadHWCheckpoint reads the checkpoint; a missing file is empty.
func loadHWCheckpoint(fsys fs.FS, dir string) (map[Key]int64, error) {
	b, err := readFile(fsys, filepath.Join(dir, hwCheckpointFile))
	if err != nil {
		return map[Key]int64{}, nil //nolint:nilerr // no checkpoint yet
	}
	if len(b) > maxHWCheckpoint {
		return nil, fmt.Errorf("%s: too large", hwCheckpointFile)
	}
	return parseHWCheckpoint(b)
}

// parseHWCheckpoint parses "0\n<count>\n<topic> <partition> <offset>\n...".
func parseHWCheckpoint(b []byte) (map[Key]int64, error) {
	out := map[Key]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<16)
	line := 0
	count := -1
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		line++
		switch line {
		case 1:
			if text != "0" {
				return nil, fmt.Errorf("%s: unsupported version %q", hwCheckpointFile, text)
			}
			continue
		case 2:
			n, err := strconv.Atoi(text)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%s: bad entry count %q", hwCheckpointFile, text)
			}
			count = n
			continue
		}
		f := strings.Fields(text)
		if len(f) != 3 {
			return nil, fmt.Errorf("%s line %d: want \"topic partition offset\"", hwCheckpointFile, line)
		}
		part, err1 := strconv.ParseInt(f[1], 10, 32)
		off, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || part < 0 || off < 0 {
			return nil, fmt.Errorf("%s line %d: bad numbers", hwCheckpointFile, line)
		}
		out[Key{f[0], int32(part)}] = off
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", hwCheckpointFile, err)
	}
	if count >= 0 && count != len(out) {
		return nil, fmt.Errorf("%s: header says %d entries, found %d", hwCheckpointFile, count, len(out))
	}
	return out, nil
}

func encodeHWCheckpoint(hws map[Key]int64) []byte {
	keys := make([]Key, 0, len(hws))
	for k := range hws {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Topic != keys[j].Topic {
			return keys[i].Topic < keys[j].Topic
		}
		return keys[i].Partition < keys[j].Partition
	})
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "0\n%d\n", len(keys))
	for _, k := range keys {
		fmt.Fprintf(&buf, "%s %d %d\n", k.Topic, k.Partition, hws[k])
	}
	return buf.Bytes()
}

// checkpointedHW is the high watermark the last checkpoint recorded.
func (m *Manager) checkpointedHW(k Key) (int64, bool) {
	m.hwMu.Lock()
	defer m.hwMu.Unlock()
	hw, ok := m.hwLoaded[k]
	return hw, ok
}

// WriteHWCheckpoint records every hosted partition's high watermark.
func (m *Manager) WriteHWCheckpoint() error {
	hws := map[Key]int64{}
	for k, p := range *m.parts.Load() {
		hws[k] = p.HighWatermark()
	}
	m.hwMu.Lock()
	defer m.hwMu.Unlock()
	return fs.WriteFileAtomic(m.fsys, filepath.Join(m.dataDir, hwCheckpointFile), encodeHWCheckpoint(hws))
}
