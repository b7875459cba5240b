package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// tempFile returns an open file holding size random bytes, and the bytes.
func tempFile(t *testing.T, size int, seed uint64) (*os.File, []byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "segment.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	return f, data
}

func randTags(rng *rand.Rand, t *kmsg.Tags) {
	if rng.IntN(4) != 0 {
		return
	}
	for i := rng.IntN(3); i >= 0; i-- {
		val := make([]byte, rng.IntN(200))
		t.Set(uint32(10+rng.IntN(300)), val)
	}
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// randFetch builds a random Fetch response and, for each partition, either
// nil (records inline in the response, possibly nil) or a list of pieces of
// the file and of memory. want holds each partition's expected records.
func randFetch(rng *rand.Rand, fd uintptr, file []byte) (*kmsg.FetchResponse, [][]RecordsSource, [][]byte) {
	resp := kmsg.NewPtrFetchResponse()
	resp.ThrottleMillis = rng.Int32()
	resp.ErrorCode = int16(rng.IntN(100))
	resp.SessionID = rng.Int32()
	var sources [][]RecordsSource
	var want [][]byte
	for range rng.IntN(4) {
		t := kmsg.NewFetchResponseTopic()
		t.Topic = string(randBytes(rng, rng.IntN(300)))
		copy(t.TopicID[:], randBytes(rng, 16))
		randTags(rng, &t.UnknownTags)
		for range rng.IntN(5) {
			p := kmsg.NewFetchResponseTopicPartition()
			p.Partition = rng.Int32()
			p.ErrorCode = int16(rng.IntN(100))
			p.HighWatermark = rng.Int64()
			p.LastStableOffset = rng.Int64()
			p.LogStartOffset = rng.Int64()
			switch rng.IntN(3) {
			case 0:
				p.AbortedTransactions = nil
			case 1:
				p.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
			default:
				for range 1 + rng.IntN(150) { // crosses the one-byte uvarint
					a := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
					a.ProducerID, a.FirstOffset = rng.Int64(), rng.Int64()
					randTags(rng, &a.UnknownTags)
					p.AbortedTransactions = append(p.AbortedTransactions, a)
				}
			}
			p.PreferredReadReplica = rng.Int32N(5) - 1
			if rng.IntN(2) == 0 {
				p.DivergingEpoch.Epoch, p.DivergingEpoch.EndOffset = rng.Int32(), rng.Int64()
			}
			if rng.IntN(2) == 0 {
				p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch = rng.Int32(), -1
			}
			if rng.IntN(3) == 0 {
				p.SnapshotID.EndOffset, p.SnapshotID.Epoch = rng.Int64(), rng.Int32()
				randTags(rng, &p.SnapshotID.UnknownTags)
			}
			randTags(rng, &p.UnknownTags)

			switch rng.IntN(4) {
			case 0: // inline, possibly nil
				if rng.IntN(2) == 0 {
					p.RecordBatches = randBytes(rng, rng.IntN(500))
				}
				sources = append(sources, nil)
				want = append(want, p.RecordBatches)
			default:
				src := []RecordsSource{}
				var w []byte
				for range rng.IntN(5) {
					if rng.IntN(3) == 0 {
						b := randBytes(rng, rng.IntN(300))
						src = append(src, RecordsSource{Bytes: b})
						w = append(w, b...)
						continue
					}
					pos := rng.IntN(len(file))
					n := rng.IntN(min(len(file)-pos, 40000) + 1)
					src = append(src, RecordsSource{FD: fd, Pos: int64(pos), Len: int64(n)})
					w = append(w, file[pos:pos+n]...)
					if rng.IntN(2) == 0 { // a contiguous follow-on range
						m := min(len(file)-pos-n, 1000)
						src = append(src, RecordsSource{FD: fd, Pos: int64(pos + n), Len: int64(m)})
						w = append(w, file[pos+n:pos+n+m]...)
					}
				}
				if w == nil {
					w = []byte{}
				}
				sources = append(sources, src)
				want = append(want, w)
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	if rng.IntN(2) == 0 {
		for range 1 + rng.IntN(3) {
			b := kmsg.NewFetchResponseBroker()
			b.NodeID, b.Host, b.Port = rng.Int32(), string(randBytes(rng, rng.IntN(50))), rng.Int32()
			if rng.IntN(2) == 0 {
				b.Rack = kmsg.StringPtr("rack")
			}
			randTags(rng, &b.UnknownTags)
			resp.Brokers = append(resp.Brokers, b)
		}
	}
	randTags(rng, &resp.UnknownTags)
	return resp, sources, want
}

// TestFetchMatchesKmsg compares the frame, file ranges read back, with
// kmsg's own encoding of the same response with the records inline.
func TestFetchMatchesKmsg(t *testing.T) {
	f, data := tempFile(t, 1<<20, 1)
	rng := rand.New(rand.NewPCG(7, 7))
	for v := int16(MinFetchVersion); v <= MaxFetchVersion; v++ {
		for iter := 0; iter < 60; iter++ {
			resp, sources, want := randFetch(rng, f.Fd(), data)
			corr := rng.Int32()
			frame, err := EncodeFetchResponse([]byte("junk"), corr, v, resp, sources)
			if err != nil {
				t.Fatal(err)
			}
			got, err := frame.AppendTo(nil)
			if err != nil {
				t.Fatal(err)
			}
			var copied bytes.Buffer
			if n, err := frame.WriteTo(&copied); err != nil || n != frame.Size() {
				t.Fatalf("WriteTo: %d, %v", n, err)
			}

			k := 0
			for ti := range resp.Topics {
				for pi := range resp.Topics[ti].Partitions {
					resp.Topics[ti].Partitions[pi].RecordBatches = want[k]
					k++
				}
			}
			resp.Version = v
			exp := AppendResponse(nil, corr, resp)
			if !bytes.Equal(got, exp) {
				i := 0
				for i < min(len(got), len(exp)) && got[i] == exp[i] {
					i++
				}
				t.Fatalf("v%d iter %d: differ at byte %d of %d/%d", v, iter, i, len(got), len(exp))
			}
			if !bytes.Equal(copied.Bytes(), exp) || int64(len(exp)) != frame.Size() {
				t.Fatalf("v%d iter %d: copy path differs", v, iter)
			}
		}
	}
}

func TestFetchErrors(t *testing.T) {
	resp := kmsg.NewPtrFetchResponse()
	resp.Topics = []kmsg.FetchResponseTopic{{Partitions: []kmsg.FetchResponseTopicPartition{kmsg.NewFetchResponseTopicPartition()}}}
	for _, v := range []int16{3, 19} {
		if _, err := EncodeFetchResponse(nil, 1, v, resp, nil); !errors.Is(err, ErrUnsupportedVersion) {
			t.Fatalf("v%d: %v", v, err)
		}
	}
	if _, err := EncodeFetchResponse(nil, 1, 12, resp, make([][]RecordsSource, 2)); err == nil {
		t.Fatal("source count mismatch accepted")
	}
}

// loopback returns the two ends of a loopback TCP connection.
func loopback(t *testing.T) (server, client *net.TCPConn) {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   *net.TCPConn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.AcceptTCP()
		ch <- res{c, err}
	}()
	client, err = net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { r.c.Close(); client.Close() })
	return r.c, client
}

func fetchOf(records int) *kmsg.FetchResponse {
	resp := kmsg.NewPtrFetchResponse()
	t := kmsg.NewFetchResponseTopic()
	t.Topic = "orders"
	p := kmsg.NewFetchResponseTopicPartition()
	p.HighWatermark = 100
	t.Partitions = make([]kmsg.FetchResponseTopicPartition, records)
	for i := range t.Partitions {
		t.Partitions[i] = p
		t.Partitions[i].Partition = int32(i)
	}
	resp.Topics = append(resp.Topics, t)
	return resp
}

// TestSendfileConcurrent sends different ranges of one file over several
// loopback connections at once, with small socket buffers so that sendfile
// hits EAGAIN and waits on the poller, and checks every byte and that the
// file's shared position never moved.
func TestSendfileConcurrent(t *testing.T) {
	f, data := tempFile(t, 8<<20, 2)
	const seek = 12345
	if _, err := f.Seek(seek, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	for w := range writers {
		server, client := loopback(t)
		server.SetWriteBuffer(16 << 10)
		client.SetReadBuffer(16 << 10)
		pos := int64(w) * 900_000
		n := int64(1<<20 + w*1000)
		sources := [][]RecordsSource{
			{{FD: f.Fd(), Pos: pos, Len: n}, {Bytes: []byte("tail")}},
			{{FD: f.Fd(), Pos: int64(len(data)) - 10, Len: 10}},
		}
		version := int16(4 + w*2)
		resp := fetchOf(2)
		frame, err := EncodeFetchResponse(nil, int32(w), version, resp, sources)
		if err != nil {
			t.Fatal(err)
		}
		want, err := frame.AppendTo(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(want, append(append([]byte(nil), data[pos:pos+n]...), "tail"...)) {
			t.Fatal("materialized frame lacks the range")
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			server.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if err := WriteFetchResponse(server, int32(w), version, resp, sources); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			client.SetReadDeadline(time.Now().Add(30 * time.Second))
			got := make([]byte, 0, len(want))
			buf := make([]byte, 3000) // small reads keep the writer blocked
			for len(got) < len(want) {
				m, err := client.Read(buf[:min(len(buf), len(want)-len(got))])
				got = append(got, buf[:m]...)
				if err != nil {
					errs <- err
					return
				}
			}
			if !bytes.Equal(got, want) {
				errs <- errors.New("received bytes differ")
			}
			frame, err := ReadFrame(bytes.NewReader(got), 1<<30, nil)
			if err != nil || binary.BigEndian.Uint32(frame) != uint32(w) {
				errs <- errors.New("frame or correlation id wrong")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if at, err := f.Seek(0, io.SeekCurrent); err != nil || at != seek {
		t.Fatalf("file position %d, want %d (%v)", at, seek, err)
	}
}

// TestSendfileDeadline checks that a sendfile waiting for a reader that
// never comes honours the write deadline instead of spinning or hanging.
func TestSendfileDeadline(t *testing.T) {
	f, _ := tempFile(t, 8<<20, 3)
	server, _ := loopback(t)
	server.SetWriteBuffer(16 << 10)
	server.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	err := WriteFetchResponse(server, 1, 12, fetchOf(1), [][]RecordsSource{{{FD: f.Fd(), Pos: 0, Len: 8 << 20}}})
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
}

// TestSendfileClose checks that closing the socket under a sendfile
// blocked on a client that does not read ends it at once (the broker's
// bounded shutdown relies on it).
func TestSendfileClose(t *testing.T) {
	f, _ := tempFile(t, 8<<20, 5)
	server, _ := loopback(t)
	server.SetWriteBuffer(16 << 10)
	time.AfterFunc(200*time.Millisecond, func() { server.Close() })
	start := time.Now()
	err := WriteFetchResponse(server, 1, 12, fetchOf(1), [][]RecordsSource{{{FD: f.Fd(), Pos: 0, Len: 8 << 20}}})
	if !errors.Is(err, net.ErrClosed) || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %v, want net.ErrClosed soon after the close", err, time.Since(start))
	}
}

// TestSendfileShortFile checks a range past the end of the file (a segment
// truncated underneath) fails rather than hanging or sending garbage.
func TestSendfileShortFile(t *testing.T) {
	f, _ := tempFile(t, 1000, 4)
	sources := [][]RecordsSource{{{FD: f.Fd(), Pos: 500, Len: 1000}}}
	server, client := loopback(t)
	go io.Copy(io.Discard, client)
	err := WriteFetchResponse(server, 1, 12, fetchOf(1), sources)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("sendfile: %v", err)
	}
	frame, err := EncodeFetchResponse(nil, 1, 12, fetchOf(1), sources)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := frame.WriteTo(io.Discard); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("copy: %v", err)
	}
	if _, err := frame.AppendTo(nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("append: %v", err)
	}
}
