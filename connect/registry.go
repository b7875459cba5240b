package connect

import (
	"fmt"
	"sort"
	"strings"
)

// Plugin describes one plugin class.
type Plugin struct {
	// Class is the fully qualified Java class name users put in
	// connector.class, key.converter, transforms.X.type, ….
	Class   string
	Aliases []string // short names, e.g. "FileStreamSource"
	Kind    Kind
	Version string
	// New returns a fresh instance: a SourceConnector, SinkConnector,
	// Converter, HeaderConverter, Transformation or Predicate, as Kind
	// says.
	New func() any
	// Config describes the plugin's own settings (nil when none).
	Config func() *ConfigDef
}

// Registry maps class names and aliases to plugins. It is filled before
// the worker starts and only read afterwards.
type Registry struct {
	byName  map[string]*Plugin
	plugins []*Plugin
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{byName: map[string]*Plugin{}}
}

// Register adds p. Registering a name twice is a programming error and
// returns an error.
func (r *Registry) Register(p Plugin) error {
	if p.Class == "" || p.New == nil {
		return fmt.Errorf("connect: plugin needs a class and a constructor")
	}
	names := append([]string{p.Class}, p.Aliases...)
	for _, n := range names {
		if _, ok := r.byName[n]; ok {
			return fmt.Errorf("connect: plugin %q registered twice", n)
		}
	}
	pp := &p
	for _, n := range names {
		r.byName[n] = pp
	}
	r.plugins = append(r.plugins, pp)
	return nil
}

// Lookup finds a plugin by class name or alias. Like Java's plugin
// loader, a simple class name (the part after the last dot) also
// matches when it is unambiguous.
func (r *Registry) Lookup(name string) (*Plugin, bool) {
	if p, ok := r.byName[name]; ok {
		return p, true
	}
	var found *Plugin
	for _, p := range r.plugins {
		if simple(p.Class) == name {
			if found != nil {
				return nil, false
			}
			found = p
		}
	}
	return found, found != nil
}

// Plugins lists the plugins of the given kinds (all when none), sorted by
// class.
func (r *Registry) Plugins(kinds ...Kind) []*Plugin {
	var out []*Plugin
	for _, p := range r.plugins {
		if len(kinds) == 0 || hasKind(kinds, p.Kind) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Class < out[j].Class })
	return out
}

func hasKind(ks []Kind, k Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func simple(class string) string {
	if i := strings.LastIndexByte(class, '.'); i >= 0 {
		return class[i+1:]
	}
	return class
}
