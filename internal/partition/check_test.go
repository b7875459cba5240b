package partition

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
)

// AppendChecked runs the caller's check on every record before writing:
// a refusal is ErrInvalidRecord wrapping *batch.RecordCheckError and
// leaves the log as it was; an accepted batch is stored.
func TestAppendChecked(t *testing.T) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	p := openTest(t, t.TempDir(), testConfig(), clock)
	defer p.Close()
	for _, codec := range []batch.Codec{batch.CodecNone, batch.CodecZstd} {
		b, err := batch.Build(codec, plainRecords(4), batch.BuildOptions{BaseTimestamp: clock.t.UnixMilli()})
		if err != nil {
			t.Fatal(err)
		}
		leo := p.LogEndOffset()
		refuse := errors.New("not registered")
		_, err = p.AppendChecked(append([]byte(nil), b...), 1, func(i int, r *batch.Record) error {
			if i == 2 {
				return refuse
			}
			return nil
		})
		var ce *batch.RecordCheckError
		if !errors.Is(err, ErrInvalidRecord) || !errors.As(err, &ce) || ce.Index != 2 || !errors.Is(err, refuse) {
			t.Fatalf("%s: %v", codec, err)
		}
		if p.LogEndOffset() != leo {
			t.Fatalf("%s: refused batch appended", codec)
		}
		var keys [][]byte
		res, err := p.AppendChecked(b, 1, func(i int, r *batch.Record) error {
			keys = append(keys, bytes.Clone(r.Key))
			return nil
		})
		if err != nil || res.BaseOffset != leo || len(keys) != 4 || !bytes.Equal(keys[3], []byte{'k', 3}) {
			t.Fatalf("%s: %+v, %v, keys %q", codec, res, err, keys)
		}
	}
}
