package restproxy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// v3BenchValue is a 1 KiB JSON value.
func v3BenchValue() string {
	return fmt.Sprintf(`{"id":1,"pad":%q}`, strings.Repeat("x", 1024-len(`{"id":1,"pad":""}`)))
}

// BenchmarkV3StreamingProduce streams b.N 1 KiB JSON records through one
// v3 request (records/s and MB/s of values).
func BenchmarkV3StreamingProduce(b *testing.B) {
	n := v3Start(b)
	v3Topic(b, n, "bench", 4)
	val := v3BenchValue()
	b.SetBytes(int64(len(val)))
	b.ResetTimer()
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(pw, 64<<10)
		for i := range b.N {
			fmt.Fprintf(bw, `{"key":{"type":"STRING","data":"k%d"},"value":{"type":"JSON","data":%s}}`, i, val)
		}
		bw.Flush()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", n.C("/topics/bench/records"), pr)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for i := range b.N {
		var rep struct {
			ErrorCode int `json:"error_code"`
		}
		if err := dec.Decode(&rep); err != nil || rep.ErrorCode != 200 {
			b.Fatalf("report %d: %v %d", i, err, rep.ErrorCode)
		}
	}
}

// BenchmarkV3NativeProduce produces the same records with franz-go.
func BenchmarkV3NativeProduce(b *testing.B) {
	n := v3Start(b)
	v3Topic(b, n, "bench", 4)
	cl := n.Client(b, kgo.DefaultProduceTopic("bench"), kgo.ProducerLinger(5e6))
	val := []byte(v3BenchValue())
	b.SetBytes(int64(len(val)))
	b.ResetTimer()
	ctx := context.Background()
	errs := make(chan error, 1)
	for i := range b.N {
		cl.Produce(ctx, &kgo.Record{Key: []byte(fmt.Sprintf("k%d", i)), Value: val}, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}
