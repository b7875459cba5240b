package transform

import (
	"errors"
	"fmt"
	"strings"

	"github.com/samsa-streaming/samsa/connect"
)

// stage is one transformation, applied when its predicate (if any)
// tests true, or false when negated (Java's TransformationStage).
type stage struct {
	alias     string
	t         connect.Transformation
	predicate connect.Predicate
	negate    bool
}

// Chain is a connector's transformation chain.
type Chain struct {
	stages []stage
}

// splitList parses a LIST property as Java does (comma separated, trimmed,
// empty for an empty string).
func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// withPrefix returns the props under prefix, prefix removed.
func withPrefix(props map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range props {
		if strings.HasPrefix(k, prefix) {
			out[k[len(prefix):]] = v
		}
	}
	return out
}

func uniqueAliases(name string, aliases []string) error {
	seen := map[string]bool{}
	for _, a := range aliases {
		if seen[a] {
			return configErrValue(name, aliases, "Duplicate alias provided.")
		}
		seen[a] = true
	}
	return nil
}

// NewChain builds the chain that connectorProps' transforms, transforms.<a>.*,
// predicates and predicates.<p>.* describe (ConnectorConfig.transformationStages).
func NewChain(reg *connect.Registry, connectorProps map[string]string) (*Chain, error) {
	aliases := splitList(connectorProps["transforms"])
	if err := uniqueAliases("transforms", aliases); err != nil {
		return nil, err
	}
	if err := uniqueAliases("predicates", splitList(connectorProps["predicates"])); err != nil {
		return nil, err
	}
	c := &Chain{}
	for _, alias := range aliases {
		st, err := newStage(reg, connectorProps, alias)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.stages = append(c.stages, st)
	}
	return c, nil
}

func newStage(reg *connect.Registry, props map[string]string, alias string) (stage, error) {
	prefix := "transforms." + alias + "."
	cfg := withPrefix(props, prefix)
	inst, err := instantiate(reg, prefix+"type", cfg["type"], connect.KindTransformation)
	if err != nil {
		return stage{}, err
	}
	t, ok := inst.(connect.Transformation)
	if !ok {
		return stage{}, configErrValue(prefix+"type", cfg["type"], "Not a Transformation")
	}
	predAlias, hasPred := cfg["predicate"]
	negateS, hasNegate := cfg["negate"]
	delete(cfg, "predicate")
	delete(cfg, "negate")
	if hasNegate && !hasPred {
		return stage{}, &ConfigException{Msg: "Config '" + prefix + "negate' was provided but there is no config '" + prefix + "predicate' defining a predicate to be negated."}
	}
	if err := t.Configure(cfg); err != nil {
		return stage{}, fmt.Errorf("transform: configuring %s (%s): %w", alias, cfg["type"], err)
	}
	st := stage{alias: alias, t: t, negate: strings.EqualFold(strings.TrimSpace(negateS), "true")}
	if !hasPred {
		return st, nil
	}
	pprefix := "predicates." + predAlias + "."
	pcfg := withPrefix(props, pprefix)
	pinst, err := instantiate(reg, pprefix+"type", pcfg["type"], connect.KindPredicate)
	if err != nil {
		_ = t.Close()
		return stage{}, err
	}
	p, ok := pinst.(connect.Predicate)
	if !ok {
		_ = t.Close()
		return stage{}, configErrValue(pprefix+"type", pcfg["type"], "Not a Predicate")
	}
	if err := p.Configure(pcfg); err != nil {
		_ = t.Close()
		return stage{}, fmt.Errorf("transform: configuring predicate %s (%s): %w", predAlias, pcfg["type"], err)
	}
	st.predicate = p
	return st, nil
}

func instantiate(reg *connect.Registry, key, class string, kind connect.Kind) (any, error) {
	class = strings.TrimSpace(class)
	if class == "" {
		return nil, &ConfigException{Msg: fmt.Sprintf("Missing required configuration \"%s\" which has no default value.", key)}
	}
	p, ok := reg.Lookup(class)
	if !ok {
		return nil, configErrValue(key, class, "Class "+class+" could not be found.")
	}
	if p.Kind != kind {
		return nil, configErrValue(key, class, "Not a "+map[connect.Kind]string{connect.KindTransformation: "Transformation", connect.KindPredicate: "Predicate"}[kind])
	}
	return p.New(), nil
}

// ErrStage wraps the error of a failing stage with its alias.
var ErrStage = errors.New("transform: stage failed")

// Apply runs r through the chain; nil means a transformation dropped it.
func (c *Chain) Apply(r *connect.Record) (*connect.Record, error) {
	for _, st := range c.stages {
		if r == nil {
			return nil, nil
		}
		if st.predicate != nil && st.negate == st.predicate.Test(r) {
			continue
		}
		out, err := st.t.Apply(r)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrStage, st.alias, err)
		}
		r = out
	}
	return r, nil
}

// Len is the number of stages.
func (c *Chain) Len() int { return len(c.stages) }

// Close closes every transformation and predicate.
func (c *Chain) Close() error {
	var errs []error
	for _, st := range c.stages {
		errs = append(errs, st.t.Close())
		if st.predicate != nil {
			errs = append(errs, st.predicate.Close())
		}
	}
	c.stages = nil
	return errors.Join(errs...)
}
