package connect

import (
	"fmt"
	"strings"

	pub "github.com/samsa-streaming/samsa/connect"
)

// transformer is a connector's transformation chain.
type transformer interface {
	Apply(r *pub.Record) (*pub.Record, error)
	Close() error
}

// pipeline is what a task converts and transforms records with.
type pipeline struct {
	key, value pub.Converter
	header     pub.HeaderConverter
	chain      transformer
}

func (p *pipeline) close() {
	if p.chain != nil {
		_ = p.chain.Close() // the transformations' own resources; nothing to report to
	}
}

// newPipeline builds the converters (the connector's settings override
// the worker's) and the transformation chain of a connector config.
func (w *worker) newPipeline(conn map[string]string) (*pipeline, error) {
	p := &pipeline{}
	var err error
	if p.key, err = w.converter(conn, "key.converter", true); err != nil {
		return nil, err
	}
	if p.value, err = w.converter(conn, "value.converter", false); err != nil {
		return nil, err
	}
	class := conn["header.converter"]
	if class == "" {
		class = w.cfg.Props["header.converter"]
	}
	pl, ok := lookupPlugin(w.cfg.Plugins, class)
	if !ok {
		return nil, fmt.Errorf("header.converter: no header converter %s", class)
	}
	hc, ok := pl.New().(pub.HeaderConverter)
	if !ok {
		return nil, fmt.Errorf("header.converter: %s is not a header converter", class)
	}
	if err := hc.Configure(converterProps(w.cfg.Props, conn, "header.converter.")); err != nil {
		return nil, fmt.Errorf("header.converter: %w", err)
	}
	p.header = hc
	if p.chain, err = newChain(w.cfg.Plugins, conn); err != nil {
		return nil, err
	}
	return p, nil
}

func (w *worker) converter(conn map[string]string, k string, isKey bool) (pub.Converter, error) {
	class := strings.TrimSpace(conn[k])
	if class == "" {
		class = w.cfg.Props[k]
	}
	pl, ok := lookupPlugin(w.cfg.Plugins, class)
	if !ok {
		return nil, fmt.Errorf("%s: no converter %s", k, class)
	}
	c, ok := pl.New().(pub.Converter)
	if !ok {
		return nil, fmt.Errorf("%s: %s is not a converter", k, class)
	}
	if err := c.Configure(converterProps(w.cfg.Props, conn, k+"."), isKey); err != nil {
		return nil, fmt.Errorf("%s: %w", k, err)
	}
	return c, nil
}

// applyChain runs the transformations (none: the record itself).
func (p *pipeline) apply(r *pub.Record) (*pub.Record, error) {
	if p.chain == nil {
		return r, nil
	}
	return p.chain.Apply(r)
}
