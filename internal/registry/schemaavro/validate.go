package schemaavro

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/hamba/avro/v2"
)

// maxDataDepth bounds how deeply a payload's values may nest (a
// recursive record holding itself through a union, arrays in arrays).
const maxDataDepth = 1024

// maxReaderSlice is the Reader's limit on a string or bytes it would
// copy and on a slice it would allocate. Validate copies neither (it
// skips them after checking their length against the payload), so this
// is only a backstop.
const maxReaderSlice = 16 << 20

// readerConfig is the configuration of the payload Readers, frozen once
// per handler (freezing costs more than validating a small payload).
func readerConfig() avro.API {
	return avro.Config{MaxByteSliceSize: maxReaderSlice, MaxSliceAllocSize: maxReaderSlice}.Freeze()
}

// validatePayload decodes payload as one value of root with hamba's
// streaming Reader, skipping strings, bytes and fixed values rather than
// copying them. Nothing is allocated in proportion to a length or count
// the payload claims: lengths and counts are checked against the
// payload's size, and arrays of values that take no bytes (null, empty
// records) are not iterated.
func validatePayload(root *node, payload []byte, cfg avro.API) error {
	d := &decoder{
		r:    avro.NewReader(nil, 0, avro.WithReaderConfig(cfg)).Reset(payload),
		size: int64(len(payload)),
	}
	if err := d.value(root); err != nil {
		return err
	}
	d.r.Peek()
	if d.r.Error == nil {
		return errors.New("invalid AVRO payload: bytes remain after the value")
	}
	return nil
}

type decoder struct {
	r     *avro.Reader
	size  int64
	depth int
	zero  map[*node]bool // memo of zeroWidth
}

// err turns the Reader's error into the validation error.
func (d *decoder) err() error {
	err := d.r.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid AVRO payload: it ends before the value is complete")
	}
	return fmt.Errorf("invalid AVRO payload: %w", err)
}

func (d *decoder) value(n *node) error {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxDataDepth {
		return fmt.Errorf("invalid AVRO payload: values nest deeper than %d levels", maxDataDepth)
	}
	switch n.kind {
	case kNull:
		return nil
	case kBoolean:
		d.r.ReadBool()
	case kInt:
		d.r.ReadInt()
	case kLong:
		d.r.ReadLong()
	case kFloat:
		d.r.SkipNBytes(4)
	case kDouble:
		d.r.SkipNBytes(8)
	case kBytes, kString:
		return d.skipBytes(n.kind)
	case kFixed:
		d.r.SkipNBytes(n.size)
	case kEnum:
		i := d.r.ReadInt()
		if d.r.Error == nil && (i < 0 || int(i) >= len(n.symbols)) {
			return fmt.Errorf("invalid AVRO payload: enum %s has no symbol %d", n.fullName(), i)
		}
	case kUnion:
		return d.union(n)
	case kRecord:
		for _, f := range n.fields {
			if err := d.value(f.typ); err != nil {
				return fmt.Errorf("%w (in field %s.%s)", err, n.fullName(), f.name)
			}
		}
	case kArray, kMap:
		return d.blocks(n)
	}
	return d.err()
}

func (d *decoder) skipBytes(k kind) error {
	l := d.r.ReadLong()
	if err := d.err(); err != nil {
		return err
	}
	if l < 0 || l > d.size {
		return fmt.Errorf("invalid AVRO payload: %s length %d is negative or longer than the payload", k, l)
	}
	d.r.SkipNBytes(int(l))
	return d.err()
}

func (d *decoder) union(n *node) error {
	i := d.r.ReadLong()
	if err := d.err(); err != nil {
		return err
	}
	if i < 0 || i >= int64(len(n.branches)) {
		return fmt.Errorf("invalid AVRO payload: union branch %d does not exist in %s", i, shortType(n))
	}
	return d.value(n.branches[i])
}

// blocks reads an array's or a map's blocks.
func (d *decoder) blocks(n *node) error {
	zero := n.kind == kArray && d.zeroWidth(n.items, map[*node]bool{})
	for {
		count := d.r.ReadLong()
		if err := d.err(); err != nil {
			return err
		}
		if count == 0 {
			return nil
		}
		if count < 0 {
			if count == math.MinInt64 {
				return fmt.Errorf("invalid AVRO payload: %s block count is out of range", n.kind)
			}
			count = -count
			if bytes := d.r.ReadLong(); d.r.Error == nil && bytes < 0 {
				return fmt.Errorf("invalid AVRO payload: %s block size %d is negative", n.kind, bytes)
			}
		}
		if zero {
			continue
		}
		if count > d.size {
			return fmt.Errorf("invalid AVRO payload: %s block of %d items is longer than the payload", n.kind, count)
		}
		for range count {
			if n.kind == kMap {
				if err := d.skipBytes(kString); err != nil {
					return err
				}
			}
			if err := d.value(n.items); err != nil {
				return err
			}
		}
	}
}

// zeroWidth reports whether every value of n encodes as no bytes (null,
// fixed of size 0, records of such fields).
func (d *decoder) zeroWidth(n *node, visiting map[*node]bool) bool {
	if z, ok := d.zero[n]; ok {
		return z
	}
	if d.zero == nil {
		d.zero = map[*node]bool{}
	}
	var z bool
	switch n.kind {
	case kNull:
		z = true
	case kFixed:
		z = n.size == 0
	case kRecord:
		if visiting[n] {
			return false
		}
		visiting[n] = true
		z = true
		for _, f := range n.fields {
			if !d.zeroWidth(f.typ, visiting) {
				z = false
				break
			}
		}
	}
	d.zero[n] = z
	return z
}
