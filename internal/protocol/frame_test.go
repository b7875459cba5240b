package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// requestFrame encodes req as a client does: kmsg's own request header
// writer (kmsg.RequestFormatter), minus the size prefix.
func requestFrame(req kmsg.Request, corr int32, clientID *string) []byte {
	f := kmsg.NewRequestFormatter()
	if clientID != nil {
		f = kmsg.NewRequestFormatter(kmsg.FormatterClientID(*clientID))
	}
	b := f.AppendRequest(nil, req, corr)
	if req.Key() == 7 && req.GetVersion() == 0 {
		b = req.AppendTo(b) // kmsg's formatter writes only the header here
	}
	return b[4:]
}

func TestReadFrame(t *testing.T) {
	var stream bytes.Buffer
	for _, body := range [][]byte{[]byte("hello"), {}, bytes.Repeat([]byte{7}, 1000)} {
		binary.Write(&stream, binary.BigEndian, int32(len(body)))
		stream.Write(body)
	}
	buf := make([]byte, 0, 16)
	for _, want := range []int{5, 0, 1000} {
		got, err := ReadFrame(&stream, 1<<20, buf)
		if err != nil || len(got) != want {
			t.Fatalf("frame of %d: got %d, %v", want, len(got), err)
		}
		if want <= 16 && &got[:1][0] != &buf[:1][0] {
			t.Fatalf("buf not reused")
		}
	}
	if _, err := ReadFrame(&stream, 1<<20, buf); err != io.EOF {
		t.Fatalf("clean end: %v", err)
	}
	// Oversized and negative sizes fail without allocating the body.
	for _, c := range []struct {
		size int32
		want error
	}{{1 << 30, ErrFrameTooLarge}, {-5, ErrNegativeSize}} {
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(c.size))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := ReadFrame(bytes.NewReader(hdr[:]), 100, buf); !errors.Is(err, c.want) {
			t.Fatalf("size %d: %v", c.size, err)
		}
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 4096 {
			t.Fatalf("size %d: allocated %d bytes", c.size, n)
		}
	}
	// Truncated body and truncated size.
	if _, err := ReadFrame(bytes.NewReader([]byte{0, 0, 0, 9, 1, 2}), 100, nil); err != io.ErrUnexpectedEOF {
		t.Fatalf("truncated body: %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0, 0}), 100, nil); err != io.ErrUnexpectedEOF {
		t.Fatalf("truncated size: %v", err)
	}
}

func TestParseRequest(t *testing.T) {
	id := "client-1"
	// ApiVersions v3 (flexible: header v2) with body fields.
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 3
	av.ClientSoftwareName = "franz-go"
	av.ClientSoftwareVersion = "1.0"
	h, req, err := ParseRequest(requestFrame(av, 42, &id))
	if err != nil {
		t.Fatal(err)
	}
	if h != (RequestHeader{Key: 18, Version: 3, CorrelationID: 42, ClientID: id}) {
		t.Fatalf("header %+v", h)
	}
	got := req.(*kmsg.ApiVersionsRequest)
	if got.ClientSoftwareName != "franz-go" || got.ClientSoftwareVersion != "1.0" || got.Version != 3 {
		t.Fatalf("body %+v", got)
	}

	// Every key kmsg knows, at every version, with a null client id too:
	// the body round-trips through kmsg.
	for key := int16(0); key < 100; key++ {
		r := kmsg.RequestForKey(key)
		if r == nil {
			continue
		}
		for v := int16(0); v <= r.MaxVersion(); v++ {
			r := kmsg.RequestForKey(key)
			r.SetVersion(v)
			var cid *string
			if v%2 == 0 {
				cid = &id
			}
			h, parsed, err := ParseRequest(requestFrame(r, int32(v), cid))
			if err != nil {
				t.Fatalf("key %d v%d: %v", key, v, err)
			}
			wantID := ""
			if cid != nil && (key != 7 || v != 0) {
				wantID = id
			}
			if h.Key != key || h.Version != v || h.ClientID != wantID || parsed.GetVersion() != v {
				t.Fatalf("key %d v%d: header %+v", key, v, h)
			}
			if !bytes.Equal(parsed.AppendTo(nil), r.AppendTo(nil)) {
				t.Fatalf("key %d v%d: body differs", key, v)
			}
		}
	}
}

func TestParseRequestErrors(t *testing.T) {
	// Unknown key: header returned, no request.
	frame := []byte{0x7f, 0x00, 0, 1, 0, 0, 0, 9, 0xff, 0xff}
	h, req, err := ParseRequest(frame)
	if !errors.Is(err, ErrUnknownKey) || req != nil || h.CorrelationID == 0 || h.Key != 0x7f00 {
		t.Fatalf("unknown key: %+v %v %v", h, req, err)
	}
	// ApiVersions at a version above kmsg's: header returned for the
	// UNSUPPORTED_VERSION answer.
	frame = []byte{0, 18, 0x7f, 0, 0, 0, 0, 5, 0, 1, 'x', 0}
	h, req, err = ParseRequest(frame)
	if !errors.Is(err, ErrUnsupportedVersion) || req != nil || h.Key != 18 || h.CorrelationID != 5 || h.ClientID != "x" {
		t.Fatalf("unsupported: %+v %v %v", h, req, err)
	}
	// Negative version.
	frame[2], frame[3] = 0xff, 0xff
	if _, _, err := ParseRequest(frame); !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("negative version: %v", err)
	}
	// Short frames and bad client id lengths.
	for _, f := range [][]byte{
		nil,
		{0, 18, 0, 3, 0, 0, 0},
		{0, 18, 0, 3, 0, 0, 0, 1},
		{0, 18, 0, 3, 0, 0, 0, 1, 0, 9, 'a'},
		{0, 18, 0, 3, 0, 0, 0, 1, 0xff, 0xfe},
		// Flexible header whose tags claim more bytes than present.
		{0, 18, 0, 3, 0, 0, 0, 1, 0xff, 0xff, 1, 0, 50},
		// Metadata v1 body: topic array claims 5 topics, none present.
		{0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0, 0, 0, 5},
	} {
		if _, req, err := ParseRequest(f); !errors.Is(err, ErrMalformed) || req != nil {
			t.Fatalf("% x: %v", f, err)
		}
	}
}

func TestAppendResponse(t *testing.T) {
	// Flexible Metadata v12: header v1 (one tag byte).
	md := kmsg.NewPtrMetadataResponse()
	md.Version = 12
	got := AppendResponse([]byte("prefix"), 7, md)
	if string(got[:6]) != "prefix" {
		t.Fatal("prefix")
	}
	got = got[6:]
	body := md.AppendTo(nil)
	want := binary.BigEndian.AppendUint32(nil, uint32(4+1+len(body)))
	want = binary.BigEndian.AppendUint32(want, 7)
	want = append(append(want, 0), body...)
	if !bytes.Equal(got, want) {
		t.Fatalf("metadata v12:\n% x\n% x", got, want)
	}
	// Non-flexible Metadata v1: header v0.
	md.Version = 1
	got = AppendResponse(nil, 8, md)
	if int(binary.BigEndian.Uint32(got)) != len(got)-4 || !bytes.Equal(got[8:], md.AppendTo(nil)) {
		t.Fatal("metadata v1")
	}
	// ApiVersions v3 is flexible but still uses header v0, and kgo's
	// client-side reader agrees (kmsg reads the body straight after the
	// correlation id).
	av := kmsg.NewPtrApiVersionsResponse()
	av.Version = 3
	av.ApiKeys = []kmsg.ApiVersionsResponseApiKey{{ApiKey: 0, MinVersion: 0, MaxVersion: 11}}
	got = AppendResponse(nil, 9, av)
	if !bytes.Equal(got[8:], av.AppendTo(nil)) {
		t.Fatal("api versions v3 header")
	}
	back := kmsg.NewPtrApiVersionsResponse()
	back.Version = 3
	if err := back.ReadFrom(got[8:]); err != nil || len(back.ApiKeys) != 1 {
		t.Fatal(err)
	}
}

func TestVersionHelpers(t *testing.T) {
	if !IsFlexible(18, 3) || IsFlexible(18, 2) || !IsFlexible(1, 12) || IsFlexible(1, 11) || IsFlexible(9999, 1) {
		t.Fatal("IsFlexible")
	}
	if MaxVersion(9999) != -1 || MaxVersion(1) < 12 {
		t.Fatal("MaxVersion")
	}
}
