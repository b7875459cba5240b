package connect

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ConfigType is a configuration value's type, named as Java's
// ConfigDef.Type (the REST API shows these names).
type ConfigType string

// Config types.
const (
	TypeBoolean  ConfigType = "BOOLEAN"
	TypeString   ConfigType = "STRING"
	TypeInt      ConfigType = "INT"
	TypeShort    ConfigType = "SHORT"
	TypeLong     ConfigType = "LONG"
	TypeDouble   ConfigType = "DOUBLE"
	TypeList     ConfigType = "LIST"
	TypeClass    ConfigType = "CLASS"
	TypePassword ConfigType = "PASSWORD"
)

// Importance is Java's ConfigDef.Importance.
type Importance string

// Importances.
const (
	High   Importance = "HIGH"
	Medium Importance = "MEDIUM"
	Low    Importance = "LOW"
)

// Width is Java's ConfigDef.Width (a UI hint).
type Width string

// Widths.
const (
	WidthNone   Width = "NONE"
	WidthShort  Width = "SHORT"
	WidthMedium Width = "MEDIUM"
	WidthLong   Width = "LONG"
)

// ConfigKey is one setting.
type ConfigKey struct {
	Name string
	Type ConfigType
	// Default is the default as a string (as Java prints it); Required
	// settings have none.
	Default  string
	Required bool
	// Validator checks a parsed value (nil accepts everything the type
	// parses).
	Validator     func(v any) error
	Importance    Importance
	Documentation string
	Group         string
	OrderInGroup  int
	Width         Width
	DisplayName   string
	Dependents    []string
	// Recommended lists valid values, shown by validate.
	Recommended func(parsed map[string]any) []any
}

// ConfigDef is an ordered set of settings.
type ConfigDef struct {
	keys []ConfigKey
}

// NewConfigDef returns an empty definition.
func NewConfigDef() *ConfigDef { return &ConfigDef{} }

// Define adds a key and returns d for chaining. A later key with the
// same name replaces the earlier one.
func (d *ConfigDef) Define(k ConfigKey) *ConfigDef {
	if k.Width == "" {
		k.Width = WidthNone
	}
	if k.Importance == "" {
		k.Importance = Medium
	}
	if k.DisplayName == "" {
		k.DisplayName = k.Name
	}
	for i := range d.keys {
		if d.keys[i].Name == k.Name {
			d.keys[i] = k
			return d
		}
	}
	d.keys = append(d.keys, k)
	return d
}

// Merge adds o's keys to d (d's win on a clash) and returns d.
func (d *ConfigDef) Merge(o *ConfigDef) *ConfigDef {
	if o == nil {
		return d
	}
	for _, k := range o.keys {
		if d.Key(k.Name) == nil {
			d.keys = append(d.keys, k)
		}
	}
	return d
}

// Keys returns the keys in definition order.
func (d *ConfigDef) Keys() []ConfigKey {
	if d == nil {
		return nil
	}
	return d.keys
}

// Key returns the named key, or nil.
func (d *ConfigDef) Key(name string) *ConfigKey {
	if d == nil {
		return nil
	}
	for i := range d.keys {
		if d.keys[i].Name == name {
			return &d.keys[i]
		}
	}
	return nil
}

// ConfigValue is one setting's validation result (Java's ConfigValue).
type ConfigValue struct {
	Name              string
	Value             any
	RecommendedValues []any
	Errors            []string
	Visible           bool
}

// Parse converts props to typed values, applying defaults. It fails on
// the first missing required setting or unparsable value; Validate
// reports all of them instead.
func (d *ConfigDef) Parse(props map[string]string) (map[string]any, error) {
	out := make(map[string]any, len(d.Keys()))
	for _, k := range d.Keys() {
		v, err := k.parse(props)
		if err != nil {
			return nil, err
		}
		out[k.Name] = v
	}
	return out, nil
}

// Validate checks every key of props and returns one ConfigValue per
// defined key, in definition order.
func (d *ConfigDef) Validate(props map[string]string) []*ConfigValue {
	parsed := map[string]any{}
	vals := make([]*ConfigValue, 0, len(d.Keys()))
	for _, k := range d.Keys() {
		cv := &ConfigValue{Name: k.Name, Visible: true, Errors: []string{}, RecommendedValues: []any{}}
		v, err := k.parse(props)
		if err != nil {
			cv.Errors = append(cv.Errors, err.Error())
		} else {
			parsed[k.Name] = v
		}
		if s, ok := props[k.Name]; ok {
			cv.Value = s
		} else if !k.Required {
			cv.Value = k.Default
			if k.Default == "" && k.Type != TypeString && k.Type != TypePassword {
				cv.Value = nil
			}
		}
		vals = append(vals, cv)
	}
	for i, k := range d.Keys() {
		if k.Recommended != nil {
			vals[i].RecommendedValues = k.Recommended(parsed)
		}
	}
	return vals
}

func (k *ConfigKey) parse(props map[string]string) (any, error) {
	s, ok := props[k.Name]
	if !ok {
		if k.Required {
			return nil, fmt.Errorf("Missing required configuration \"%s\" which has no default value.", k.Name)
		}
		s = k.Default
		if s == "" && k.Type != TypeString && k.Type != TypePassword && k.Type != TypeList {
			return nil, nil
		}
	}
	v, err := ParseValue(k.Type, s)
	if err != nil {
		return nil, fmt.Errorf("Invalid value %s for configuration %s: %w", s, k.Name, err)
	}
	if k.Validator != nil {
		if err := k.Validator(v); err != nil {
			return nil, fmt.Errorf("Invalid value %s for configuration %s: %w", s, k.Name, err)
		}
	}
	return v, nil
}

// ParseValue parses s as a value of type t: bool, string, int32, int16,
// int64, float64, []string (LIST, comma separated, trimmed) or string
// (CLASS and PASSWORD).
func ParseValue(t ConfigType, s string) (any, error) {
	s = strings.TrimSpace(s)
	switch t {
	case TypeBoolean:
		switch strings.ToLower(s) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("Expected value to be either true or false")
	case TypeInt:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("Not a number of type INT")
		}
		return int32(n), nil
	case TypeShort:
		n, err := strconv.ParseInt(s, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("Not a number of type SHORT")
		}
		return int16(n), nil
	case TypeLong:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("Not a number of type LONG")
		}
		return n, nil
	case TypeDouble:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("Not a number of type DOUBLE")
		}
		return f, nil
	case TypeList:
		if s == "" {
			return []string{}, nil
		}
		parts := strings.Split(s, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts, nil
	case TypeString, TypeClass, TypePassword:
		return s, nil
	}
	return nil, fmt.Errorf("unknown config type %q", t)
}

// InList returns a validator accepting only the given strings
// (case-insensitively when fold is set).
func InList(fold bool, allowed ...string) func(any) error {
	return func(v any) error {
		s, _ := v.(string)
		for _, a := range allowed {
			if s == a || (fold && strings.EqualFold(s, a)) {
				return nil
			}
		}
		sorted := append([]string(nil), allowed...)
		sort.Strings(sorted)
		return fmt.Errorf("String must be one of: %s", strings.Join(sorted, ", "))
	}
}

// AtLeast returns a validator for numbers ≥ min.
func AtLeast(min int64) func(any) error {
	return func(v any) error {
		var n int64
		switch x := v.(type) {
		case int32:
			n = int64(x)
		case int16:
			n = int64(x)
		case int64:
			n = x
		case float64:
			if x < float64(min) {
				return fmt.Errorf("Value must be at least %d", min)
			}
			return nil
		}
		if n < min {
			return fmt.Errorf("Value must be at least %d", min)
		}
		return nil
	}
}
