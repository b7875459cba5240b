package log

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/samsa-streaming/samsa/internal/fs"
)

// Checkpoint file names inside the partition directory.
const (
	epochCheckpointFile    = "leader-epoch-checkpoint"
	logStartCheckpointFile = "log-start-offset-checkpoint"
	recoveryCheckpointFile = "recovery-point-offset-checkpoint"
	checkpointTmpSuffix    = fs.TempSuffix
	maxCheckpointBytes     = 16 << 20
)

var errBadCheckpoint = errors.New("malformed checkpoint")

// writeCheckpoint atomically replaces dir/name with Kafka's checkpoint text
// format: a version line "0", a count line, then one line per entry, with
// fs.WriteFileAtomic (temporary file, fsync, rename, directory fsync).
func writeCheckpoint(fsys fs.FS, dir, name string, lines []string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "0\n%d\n", len(lines))
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return fs.WriteFileAtomic(fsys, filepath.Join(dir, name), b.Bytes())
}

// readCheckpoint reads a checkpoint written by writeCheckpoint and returns
// its entry lines split into fields. A missing file gives (nil, false, nil).
func readCheckpoint(fsys fs.FS, dir, name string) ([][]string, bool, error) {
	path := filepath.Join(dir, name)
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	if st.Size() > maxCheckpointBytes {
		return nil, true, fmt.Errorf("%s: %w: %d bytes", path, errBadCheckpoint, st.Size())
	}
	buf := make([]byte, st.Size())
	n, err := f.ReadAt(buf, 0)
	if err != nil && !(errors.Is(err, io.EOF) && n == len(buf)) {
		return nil, false, err
	}
	lines := strings.Split(strings.TrimRight(string(buf[:n]), "\n"), "\n")
	if len(lines) < 2 || strings.TrimSpace(lines[0]) != "0" {
		return nil, true, fmt.Errorf("%s: %w: bad version line", path, errBadCheckpoint)
	}
	count, err := strconv.Atoi(strings.TrimSpace(lines[1]))
	if err != nil || count != len(lines)-2 {
		return nil, true, fmt.Errorf("%s: %w: count line %q for %d entries", path, errBadCheckpoint, lines[1], len(lines)-2)
	}
	out := make([][]string, 0, count)
	for _, l := range lines[2:] {
		out = append(out, strings.Fields(l))
	}
	return out, true, nil
}

// readOffsetCheckpoint reads a single-offset checkpoint (log start offset,
// recovery point).
func readOffsetCheckpoint(fsys fs.FS, dir, name string) (int64, bool, error) {
	ents, ok, err := readCheckpoint(fsys, dir, name)
	if err != nil || !ok {
		return 0, ok, err
	}
	if len(ents) != 1 || len(ents[0]) != 1 {
		return 0, true, fmt.Errorf("%s: %w: want one offset", name, errBadCheckpoint)
	}
	off, err := strconv.ParseInt(ents[0][0], 10, 64)
	if err != nil || off < 0 {
		return 0, true, fmt.Errorf("%s: %w: offset %q", name, errBadCheckpoint, ents[0][0])
	}
	return off, true, nil
}

func writeOffsetCheckpoint(fsys fs.FS, dir, name string, off int64) error {
	return writeCheckpoint(fsys, dir, name, []string{strconv.FormatInt(off, 10)})
}

// EpochEntry is one leader-epoch-checkpoint line: the first offset written
// in a leader epoch.
type EpochEntry struct {
	Epoch       int32
	StartOffset int64
}

// epochCache is Kafka's LeaderEpochFileCache: epochs and start offsets, both
// strictly increasing. The Log's writer lock serialises mutations and the
// checkpoint writes; mu lets readers query concurrently.
type epochCache struct {
	mu      sync.RWMutex
	entries []EpochEntry
}

func loadEpochCache(fsys fs.FS, dir string) (*epochCache, error) {
	ents, _, err := readCheckpoint(fsys, dir, epochCheckpointFile)
	if err != nil {
		return nil, err
	}
	c := &epochCache{}
	for _, f := range ents {
		if len(f) != 2 {
			return nil, fmt.Errorf("%s: %w: line %q", epochCheckpointFile, errBadCheckpoint, f)
		}
		e, err1 := strconv.ParseInt(f[0], 10, 32)
		o, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil || e < 0 || o < 0 {
			return nil, fmt.Errorf("%s: %w: line %q", epochCheckpointFile, errBadCheckpoint, f)
		}
		if n := len(c.entries); n > 0 && (int32(e) <= c.entries[n-1].Epoch || o < c.entries[n-1].StartOffset) {
			return nil, fmt.Errorf("%s: %w: entries not increasing at %q", epochCheckpointFile, errBadCheckpoint, f)
		}
		c.entries = append(c.entries, EpochEntry{int32(e), o})
	}
	return c, nil
}

func (c *epochCache) persist(fsys fs.FS, dir string) error {
	c.mu.RLock()
	lines := make([]string, len(c.entries))
	for i, e := range c.entries {
		lines[i] = fmt.Sprintf("%d %d", e.Epoch, e.StartOffset)
	}
	c.mu.RUnlock()
	return writeCheckpoint(fsys, dir, epochCheckpointFile, lines)
}

func (c *epochCache) snapshot() []EpochEntry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]EpochEntry(nil), c.entries...)
}

func (c *epochCache) latestEpoch() int32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(c.entries) == 0 {
		return -1
	}
	return c.entries[len(c.entries)-1].Epoch
}

// assign records that epoch starts at start when epoch is newer than the
// latest known one. It reports whether the cache changed.
func (c *epochCache) assign(epoch int32, start int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch < 0 {
		return false
	}
	n := len(c.entries)
	if n > 0 && epoch <= c.entries[n-1].Epoch {
		return false
	}
	// Keep start offsets monotonic, as Kafka does: an entry starting at or
	// after the new one cannot be right any more.
	for n > 0 && c.entries[n-1].StartOffset >= start {
		n--
	}
	c.entries = append(c.entries[:n], EpochEntry{epoch, start})
	return true
}

// truncateFromEnd drops entries starting at or after end (log truncation).
func (c *epochCache) truncateFromEnd(end int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.entries)
	for n > 0 && c.entries[n-1].StartOffset >= end {
		n--
	}
	changed := n != len(c.entries)
	c.entries = c.entries[:n]
	return changed
}

// truncateFromStart drops entries wholly below start; the last entry that
// starts at or before start is kept, moved to start (Kafka's semantics).
func (c *epochCache) truncateFromStart(start int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := 0
	for i < len(c.entries) && c.entries[i].StartOffset <= start {
		i++
	}
	if i == 0 {
		return false
	}
	last := c.entries[i-1]
	if i == 1 && last.StartOffset == start {
		return false
	}
	last.StartOffset = start
	rest := append([]EpochEntry{last}, c.entries[i:]...)
	c.entries = rest
	return true
}

// endOffsetFor is Kafka's LeaderEpochFileCache.endOffsetFor: the largest
// epoch <= requested and the offset at which the next higher epoch starts
// (or the log end offset for the latest epoch). (-1, -1) when the requested
// epoch is unknown and newer than all, or undefined.
func (c *epochCache) endOffsetFor(epoch int32, leo int64) (int32, int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := len(c.entries)
	if epoch < 0 || n == 0 {
		return -1, -1
	}
	if c.entries[n-1].Epoch == epoch {
		return epoch, leo
	}
	// First entry with Epoch > epoch.
	hi := 0
	for hi < n && c.entries[hi].Epoch <= epoch {
		hi++
	}
	if hi == n {
		return -1, -1
	}
	if hi == 0 {
		return epoch, c.entries[0].StartOffset
	}
	return c.entries[hi-1].Epoch, c.entries[hi].StartOffset
}
