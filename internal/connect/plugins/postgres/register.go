package postgres

import (
	"fmt"

	"github.com/samsa-streaming/samsa/connect"
)

// Register adds the sink, the query source and the CDC source (under its
// own class and Debezium's) to r.
func Register(r *connect.Registry) error {
	plugins := []connect.Plugin{
		{Class: SinkClass, Aliases: []string{"PostgresSink"}, Kind: connect.KindSink, Version: version,
			New: func() any { return &SinkConnector{} }, Config: SinkConfigDef},
		{Class: SourceClass, Aliases: []string{"PostgresSource"}, Kind: connect.KindSource, Version: version,
			New: func() any { return &SourceConnector{} }, Config: SourceConfigDef},
		{Class: CdcClass, Aliases: []string{"PostgresCdcSource"}, Kind: connect.KindSource, Version: debeziumVersion,
			New: func() any { return &CdcConnector{} }, Config: CdcConfigDef},
		{Class: DebeziumClass, Kind: connect.KindSource, Version: debeziumVersion,
			New: func() any { return &CdcConnector{} }, Config: CdcConfigDef},
	}
	for _, p := range plugins {
		if err := r.Register(p); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
	}
	return nil
}
