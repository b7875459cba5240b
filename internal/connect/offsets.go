package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// offsetBackend keeps source connectors' offsets.
type offsetBackend interface {
	// Get returns a partition's offset, or nil.
	Get(connector string, partition map[string]any) (map[string]any, error)
	// All returns every offset of a connector.
	All(connector string) ([]OffsetEntry, error)
	// Put stores offsets; a nil Offset removes the partition.
	Put(ctx context.Context, connector string, entries []OffsetEntry) error
}

// partitionKey is the canonical text of a source partition (JSON with
// sorted keys, as encoding/json writes maps).
func partitionKey(p map[string]any) string {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Sprint(p)
	}
	return string(b)
}

// fileOffsets keeps offsets in memory and, when path is set, in a JSON
// file rewritten (atomically) on every Put: the standalone worker's
// offset.storage.file.filename.
type fileOffsets struct {
	path string

	mu   sync.Mutex
	data map[string]map[string]OffsetEntry // connector → partition key → entry
}

// fileFormat is the file's content.
type fileFormat struct {
	Connectors map[string][]OffsetEntry `json:"connectors"`
}

func newFileOffsets(path string) (*fileOffsets, error) {
	f := &fileOffsets{path: path, data: map[string]map[string]OffsetEntry{}}
	if path == "" {
		return f, nil
	}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("offset file: %w", err)
	}
	var ff fileFormat
	if err := json.Unmarshal(b, &ff); err != nil {
		return nil, fmt.Errorf("offset file %s: %w", path, err)
	}
	for c, es := range ff.Connectors {
		m := map[string]OffsetEntry{}
		for _, e := range es {
			m[partitionKey(e.Partition)] = e
		}
		f.data[c] = m
	}
	return f, nil
}

func (f *fileOffsets) Get(connector string, partition map[string]any) (map[string]any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.data[connector][partitionKey(partition)].Offset, nil
}

func (f *fileOffsets) All(connector string) ([]OffsetEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return sortedEntries(f.data[connector]), nil
}

func sortedEntries(m map[string]OffsetEntry) []OffsetEntry {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]OffsetEntry, 0, len(keys))
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}

func (f *fileOffsets) Put(_ context.Context, connector string, entries []OffsetEntry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.data[connector]
	if m == nil {
		m = map[string]OffsetEntry{}
		f.data[connector] = m
	}
	for _, e := range entries {
		k := partitionKey(e.Partition)
		if e.Offset == nil {
			delete(m, k)
		} else {
			m[k] = e
		}
	}
	if len(m) == 0 {
		delete(f.data, connector)
	}
	return f.save()
}

// save writes the file (caller holds mu).
func (f *fileOffsets) save() error {
	if f.path == "" {
		return nil
	}
	ff := fileFormat{Connectors: map[string][]OffsetEntry{}}
	for c, m := range f.data {
		ff.Connectors[c] = sortedEntries(m)
	}
	b, err := json.Marshal(ff)
	if err != nil {
		return fmt.Errorf("offset file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".offsets-*")
	if err != nil {
		return fmt.Errorf("offset file: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("offset file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("offset file: %w", err)
	}
	tmp.Close()
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("offset file: %w", err)
	}
	return nil
}
