package broker

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/config"
)

type sysClock struct{}

func (sysClock) Now() time.Time { return time.Now() }

// TestHandlerPanicClosesOnlyItsConnection swaps in a handler that panics and
// checks that the connection is closed, the process survives, and a second
// connection is still served.
func TestHandlerPanicClosesOnlyItsConnection(t *testing.T) {
	settings := config.Broker{}.Defaults()
	b := &Broker{cfg: Config{NodeID: 1, Settings: &settings, Logger: slog.New(slog.DiscardHandler), Clock: sysClock{}}, lg: slog.New(slog.DiscardHandler)}

	key := int16(kmsg.DescribeCluster)
	saved := apiTable[key]
	apiTable[key] = api{key: key, min: 0, max: 2, handle: func(*Broker, context.Context, *conn, *request) (kmsg.Response, error) {
		panic("boom")
	}}
	defer func() { apiTable[key] = saved }()

	frame := func(req kmsg.Request) []byte {
		out := make([]byte, 4)
		out = binary.BigEndian.AppendUint16(out, uint16(req.Key()))
		out = binary.BigEndian.AppendUint16(out, uint16(req.GetVersion()))
		out = binary.BigEndian.AppendUint32(out, 1)
		out = binary.BigEndian.AppendUint16(out, 1)
		out = append(out, 't')
		if req.IsFlexible() {
			out = append(out, 0)
		}
		out = req.AppendTo(out)
		binary.BigEndian.PutUint32(out, uint32(len(out)-4))
		return out
	}

	serve := func() net.Conn {
		client, server := net.Pipe()
		go newConn(b, server, "pipe", &Listener{Protocol: "PLAINTEXT"}).serve(context.Background()) // ends when the pipe closes
		return client
	}

	c1 := serve()
	dc := kmsg.NewPtrDescribeClusterRequest()
	dc.Version = 0
	go c1.Write(frame(dc))
	c1.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c1.Read(make([]byte, 16)); err != io.EOF {
		t.Fatalf("panicking handler: read %d bytes, err %v; want the connection closed", n, err)
	}

	c2 := serve()
	defer c2.Close()
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 0
	go c2.Write(frame(av))
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	var size [4]byte
	if _, err := io.ReadFull(c2, size[:]); err != nil {
		t.Fatalf("second connection not served after a panic: %v", err)
	}
}
