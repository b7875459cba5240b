package protocol

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzParseRequest feeds arbitrary frames to ParseRequest: it must never
// panic, must classify every failure, and whatever it accepts must re-encode
// and parse back to the same request.
func FuzzParseRequest(f *testing.F) {
	id := "fuzz"
	for _, key := range []int16{0, 1, 3, 18, 19, 22, 24, 32, 60} {
		r := kmsg.RequestForKey(key)
		for _, v := range []int16{0, r.MaxVersion() / 2, r.MaxVersion()} {
			r.SetVersion(v)
			f.Add(requestFrame(r, 1, &id))
		}
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		h, req, err := ParseRequest(frame)
		if err != nil {
			if req != nil {
				t.Fatal("request returned with an error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrUnsupportedVersion) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if req.Key() != h.Key || req.GetVersion() != h.Version {
			t.Fatalf("request %d v%d for header %+v", req.Key(), req.GetVersion(), h)
		}
		body := req.AppendTo(nil)
		again := kmsg.RequestForKey(h.Key)
		again.SetVersion(h.Version)
		if err := again.ReadFrom(body); err != nil {
			t.Fatalf("re-encoded body does not parse: %v", err)
		}
		if !bytes.Equal(again.AppendTo(nil), body) {
			t.Fatal("re-encoding is not stable")
		}
	})
}

// FuzzReadFrame reads frames from an arbitrary stream until it ends or
// errs: no panic, no frame past the limit, no error other than the
// documented ones.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0}, int32(10))
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff}, int32(100))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, int32(100))
	f.Fuzz(func(t *testing.T, stream []byte, max int32) {
		if max < 0 {
			max = -max
		}
		max %= 1 << 16
		r := bytes.NewReader(stream)
		buf := make([]byte, 0, 8)
		for {
			frame, err := ReadFrame(r, max, buf)
			if err != nil {
				switch {
				case err == io.EOF, err == io.ErrUnexpectedEOF,
					errors.Is(err, ErrFrameTooLarge), errors.Is(err, ErrNegativeSize):
					return
				}
				t.Fatalf("unexpected error %v", err)
			}
			if int32(len(frame)) > max {
				t.Fatalf("frame of %d past limit %d", len(frame), max)
			}
			if cap(frame) >= cap(buf) {
				buf = frame
			}
		}
	})
}

// FuzzParseResponse feeds arbitrary frames to ParseResponse for a few
// response kinds and versions (flexible and not, and ApiVersions, whose
// header is v0 even when flexible): it must never panic, must classify
// every failure, and whatever it accepts must re-encode and parse back to
// the same response.
func FuzzParseResponse(f *testing.F) {
	keys := []int16{0, 1, 3, 18, 23, 24, 27}
	for i, key := range keys {
		r := kmsg.ResponseForKey(key)
		for _, v := range []int16{0, r.MaxVersion()} {
			r.SetVersion(v)
			f.Add(uint8(i), v, AppendResponse(nil, 5, r)[4:])
			f.Add(uint8(i), v, append(taggedHeader(5), r.AppendTo(nil)...))
		}
	}
	f.Fuzz(func(t *testing.T, sel uint8, version int16, frame []byte) {
		resp := kmsg.ResponseForKey(keys[int(sel)%len(keys)])
		if version < 0 {
			version = -(version + 1)
		}
		resp.SetVersion(version % (resp.MaxVersion() + 1))
		if err := ParseResponse(frame, 5, resp); err != nil {
			if !errors.Is(err, ErrMalformedResponse) && !errors.Is(err, ErrCorrelation) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		again := kmsg.ResponseForKey(resp.Key())
		again.SetVersion(resp.GetVersion())
		if err := ParseResponse(AppendResponse(nil, 5, resp)[4:], 5, again); err != nil {
			t.Fatalf("re-encoded response does not parse: %v", err)
		}
		if !bytes.Equal(again.AppendTo(nil), resp.AppendTo(nil)) {
			t.Fatal("re-encoding is not stable")
		}
	})
}

// FuzzFrameReader reads an arbitrary stream with FrameReader (small pool,
// small budget, limits scaled down so that frames past KeptFrameBytes are
// common) and with ReadFrame: both see the same frames and the same
// failure, and every budget byte and pooled buffer is given back.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0}, int32(10), uint16(3))
	f.Add([]byte{0, 1, 0, 1, 9}, int32(1<<17), uint16(100))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, int32(100), uint16(1))
	f.Fuzz(func(t *testing.T, stream []byte, max int32, pad uint16) {
		if max < 0 {
			max = -max
		}
		max %= 1 << 18
		// Pad the stream so that large frames can complete.
		stream = append(stream, make([]byte, int(pad)*16)...)
		budget, _ := NewBudget(1 << 17)
		pool := NewBufferPool(1 << 18)
		fr := &FrameReader{R: bytes.NewReader(stream), MaxSize: max, Pool: pool, Budget: budget}
		ref := bytes.NewReader(stream)
		for {
			got, gerr := fr.Next(context.Background())
			want, werr := ReadFrame(ref, max, nil)
			if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
				t.Fatalf("FrameReader err %v, ReadFrame err %v", gerr, werr)
			}
			if gerr != nil {
				break
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("frames differ: %d vs %d bytes", len(got), len(want))
			}
		}
		fr.Release()
		if budget.Used() != 0 || pool.Pooled() > 1<<18 {
			t.Fatalf("budget %d still used, %d pooled", budget.Used(), pool.Pooled())
		}
	})
}
