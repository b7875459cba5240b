package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/samsa-streaming/samsa/internal/exporter"
	"github.com/samsa-streaming/samsa/internal/metrics"
)

// defaultExporterListen is kafka_exporter's port, on loopback.
const defaultExporterListen = "127.0.0.1:9308"

// newExporterCmd returns `samsa exporter`: consumer lag and partition
// offsets of any Kafka cluster under kafka_exporter's metric names, served
// at /metrics (internal/exporter).
func newExporterCmd() *cobra.Command {
	cf := &clientFlags{}
	var listen string
	var maxFetches int
	cmd := &cobra.Command{
		Use:   "exporter",
		Short: "Serve consumer lag and partition offsets of any Kafka cluster as Prometheus metrics",
		Long: `Serve, at http://LISTEN/metrics, the consumer-lag metrics of the cluster at
--brokers under kafka_exporter's names (kafka_consumergroup_lag,
kafka_consumergroup_current_offset, kafka_topic_partition_current_offset, …)
plus samsa_consumergroup_lag_seconds, the age of each group's oldest
unconsumed record. Each scrape asks the cluster as a Kafka client (Metadata,
ListOffsets, ListGroups, DescribeGroups, OffsetFetch, and a one-record Fetch per
newly committed offset for its timestamp, at most --max-record-fetches a
scrape). A Samsa broker serves the same metrics on its admin listener itself;
this is for other clusters, or to watch one from outside.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			cl, err := cf.newClient(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			lg := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			reg := metrics.New()
			if err := reg.Register(exporter.New(exporter.Config{Client: cl, Logger: lg, Timeout: cf.timeout, MaxRecordFetches: maxFetches})); err != nil {
				return err
			}
			return serveExporter(cmd.Context(), listen, reg, cmd.OutOrStdout())
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&listen, "listen", defaultExporterListen, "host:port to serve /metrics on")
	cmd.Flags().IntVar(&maxFetches, "max-record-fetches", 200,
		"records fetched per scrape to learn the timestamps of newly committed offsets (-1: none, and no samsa_consumergroup_lag_seconds)")
	return cmd
}

// serveExporter serves reg until ctx ends.
func serveExporter(ctx context.Context, listen string, reg *metrics.Registry, out io.Writer) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("exporter --listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", reg.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "serving metrics at http://%s/metrics\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }() // ends at Shutdown below
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
