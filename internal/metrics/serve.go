package metrics

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// serve answers a scrape. In the text format (what Prometheus gets unless
// it asks for protobuf, and what a bare GET gets) the small collectors go
// through client_golang's Gather and expfmt, and the Bulk collectors write
// their families straight into per-family buffers; the two are merged in
// family-name order, as Gather sorts them. A request for another format
// (protobuf, for native histograms) or for some families only (name[])
// is served by promhttp over every collector, as before the text path.
func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	format, ok := negotiatedText(req)
	if !ok || req.URL != nil && req.URL.Query().Has("name[]") {
		r.fallback.ServeHTTP(w, req)
		return
	}
	mfs, gatherErr := r.small.Gather() // on error, what was gathered is served (promhttp's ContinueOnError)
	t := r.text()
	defer r.putText(t)
	r.mu.Lock()
	bulks := r.bulks
	r.mu.Unlock()
	for _, b := range bulks {
		b.WriteText(t)
	}
	fams := t.families()
	if gatherErr != nil && len(mfs) == 0 && len(fams) == 0 {
		http.Error(w, "An error has occurred while serving metrics:\n\n"+gatherErr.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Add("Vary", "Accept")
	h.Add("Vary", "Accept-Encoding")
	h.Set("Content-Type", string(format))
	var out io.Writer = w
	if acceptsGzip(req.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		gz := r.gzipWriter(w)
		defer r.putGzip(gz)
		out = gz
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	if writeMerged(bw, mfs, fams) == nil {
		bw.Flush() // a failed write is the scraper gone: nothing to answer
	}
}

// writeMerged writes the gathered families and the text ones in name
// order.
func writeMerged(bw *bufio.Writer, mfs []*dto.MetricFamily, fams []*familyText) error {
	for len(mfs) > 0 || len(fams) > 0 {
		if len(fams) == 0 || len(mfs) > 0 && mfs[0].GetName() < fams[0].f.name {
			if _, err := expfmt.MetricFamilyToText(bw, mfs[0]); err != nil {
				return fmt.Errorf("encode %s: %w", mfs[0].GetName(), err)
			}
			mfs = mfs[1:]
			continue
		}
		bw.Write(fams[0].f.head)
		if _, err := bw.Write(fams[0].buf); err != nil {
			return fmt.Errorf("write %s: %w", fams[0].f.name, err)
		}
		fams = fams[1:]
	}
	return nil
}

// acceptsGzip says whether an Accept-Encoding header accepts gzip (with a
// non-zero q, or through *).
func acceptsGzip(h string) bool {
	for part := range strings.SplitSeq(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.TrimSpace(name)
		if name != "gzip" && name != "*" {
			continue
		}
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		if q > 0 {
			return true
		}
	}
	return false
}

// gzipWriter is a pooled gzip writer onto w, at BestSpeed: the text
// exposition compresses about tenfold at that level, for a fraction of the
// default level's CPU (the scrape's largest cost otherwise).
func (r *Registry) gzipWriter(w io.Writer) *gzip.Writer {
	if gz, ok := r.gzips.Get().(*gzip.Writer); ok {
		gz.Reset(w)
		return gz
	}
	gz, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		panic(err) // BestSpeed is a valid level
	}
	return gz
}

func (r *Registry) putGzip(gz *gzip.Writer) {
	gz.Close()
	r.gzips.Put(gz)
}
