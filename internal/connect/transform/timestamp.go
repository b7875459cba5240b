package transform

import (
	"fmt"
	"strconv"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// TimestampConverter is org.apache.kafka.connect.transforms.TimestampConverter$Key/$Value.
type TimestampConverter struct {
	side                   side
	field, target          string
	format                 *dateFormat
	pattern                string
	precision              string
	replaceNullWithDefault bool
	cache                  schemaCache
}

// TimestampConverterConfig is its CONFIG_DEF.
func TimestampConverterConfig() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: "field", Type: connect.TypeString, Importance: connect.High,
			Documentation: "The field containing the timestamp, or empty if the entire value is a timestamp"}).
		Define(connect.ConfigKey{Name: "target.type", Type: connect.TypeString, Required: true, Importance: connect.High,
			Validator:     connect.InList(false, "string", "unix", "Date", "Time", "Timestamp"),
			Documentation: "The desired timestamp representation: string, unix, Date, Time, or Timestamp"}).
		Define(connect.ConfigKey{Name: "format", Type: connect.TypeString, Importance: connect.Medium,
			Documentation: "A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string."}).
		Define(connect.ConfigKey{Name: "unix.precision", Type: connect.TypeString, Default: "milliseconds", Importance: connect.Low,
			Validator:     connect.InList(false, "nanoseconds", "microseconds", "milliseconds", "seconds"),
			Documentation: "The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. Used to generate the output when type=unix or used to parse the input if the input is a Long.Note: This SMT will cause precision loss during conversions from, and to, values with sub-millisecond components."}).
		Define(replaceNullKey())
}

// Configure reads the settings.
func (t *TimestampConverter) Configure(props map[string]string) error {
	p, err := parseConfig(TimestampConverterConfig(), props)
	if err != nil {
		return err
	}
	t.field, _ = str(p, "field")
	t.target, _ = str(p, "target.type")
	t.pattern, _ = str(p, "format")
	t.precision, _ = str(p, "unix.precision")
	t.replaceNullWithDefault = p["replace.null.with.default"].(bool)
	if t.target == "string" && t.pattern == "" {
		return &ConfigException{Msg: "TimestampConverter requires format option to be specified when using string timestamps"}
	}
	if t.pattern != "" {
		if t.format, err = parseDateFormat(t.pattern); err != nil {
			return &ConfigException{Msg: "TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: " + t.pattern}
		}
	}
	return nil
}

func (t *TimestampConverter) targetSchema(optional bool) *connect.Schema {
	v := int32(1)
	switch t.target {
	case "string":
		return &connect.Schema{Type: connect.String, Optional: optional}
	case "unix":
		return &connect.Schema{Type: connect.Int64, Optional: optional}
	case "Date":
		return &connect.Schema{Type: connect.Int32, Name: connect.DateName, Version: &v, Optional: optional}
	case "Time":
		return &connect.Schema{Type: connect.Int32, Name: connect.TimeName, Version: &v, Optional: optional}
	}
	return &connect.Schema{Type: connect.Int64, Name: connect.TimestampName, Version: &v, Optional: optional}
}

const tsPurpose = "converting timestamp formats"

// Apply converts the timestamp.
func (t *TimestampConverter) Apply(r *connect.Record) (*connect.Record, error) {
	s, v := t.side.schema(r), t.side.value(r)
	if s == nil {
		if v == nil || t.field == "" {
			out, err := t.convert(v, "")
			if err != nil {
				return nil, err
			}
			return t.side.with(r, nil, out), nil
		}
		m, err := requireMap(v, tsPurpose)
		if err != nil {
			return nil, err
		}
		out := copyMap(m)
		if out[t.field], err = t.convert(m[t.field], ""); err != nil {
			return nil, err
		}
		return t.side.with(r, nil, out), nil
	}
	if t.field == "" {
		typ, err := typeFromSchema(s)
		if err != nil {
			return nil, err
		}
		out, err := t.convert(v, typ)
		if err != nil {
			return nil, err
		}
		return t.side.with(r, t.targetSchema(s.Optional), out), nil
	}
	var st *connect.Struct
	if v != nil {
		var err error
		if st, err = requireStruct(v, tsPurpose); err != nil {
			return nil, err
		}
	}
	ns, err := t.cache.get(s, func() (*connect.Schema, error) {
		ns := copyBasics(s, connect.StructT)
		ns.Optional = s.Optional
		for _, f := range s.Fields {
			fs := f.Schema
			if f.Name == t.field {
				fs = t.targetSchema(f.Schema.Optional)
			}
			if err := addField(ns, f.Name, fs); err != nil {
				return nil, err
			}
		}
		return ns, nil
	})
	if err != nil || st == nil {
		return t.side.with(r, ns, nil), err
	}
	out := connect.NewStruct(ns)
	for i := range st.Schema.Fields {
		f := &st.Schema.Fields[i]
		fv := fieldValue(st, f, t.replaceNullWithDefault)
		if f.Name == t.field {
			typ, err := typeFromSchema(f.Schema)
			if err != nil {
				return nil, err
			}
			if fv, err = t.convert(fv, typ); err != nil {
				return nil, err
			}
		}
		_ = out.Put(f.Name, fv)
	}
	return t.side.with(r, ns, out), nil
}

func typeFromSchema(s *connect.Schema) (string, error) {
	switch {
	case s.Name == connect.TimestampName:
		return "Timestamp", nil
	case s.Name == connect.DateName:
		return "Date", nil
	case s.Name == connect.TimeName:
		return "Time", nil
	case s.Type == connect.String:
		return "string", nil
	case s.Type == connect.Int64:
		return "unix", nil
	}
	return "", dataErr("Schema %s does not correspond to a known timestamp type format", s.Type)
}

func (t *TimestampConverter) convert(v any, from string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if from == "" {
		switch v.(type) {
		case time.Time:
			from = "Timestamp"
		case int64:
			from = "unix"
		case string:
			from = "string"
		default:
			return nil, dataErr("TimestampConverter does not support class %s objects as timestamps", nullSafeClassName(v))
		}
	}
	raw, err := t.toRaw(v, from)
	if err != nil {
		return nil, err
	}
	ms := raw.UnixMilli()
	switch t.target {
	case "string":
		return t.format.format(raw.UTC()), nil
	case "unix":
		switch t.precision {
		case "seconds":
			return ms / 1000, nil
		case "microseconds":
			return ms * 1000, nil
		case "nanoseconds":
			return ms * 1000000, nil
		}
		return ms, nil
	case "Date":
		day := ms / 86400000
		if ms < 0 && ms%86400000 != 0 {
			day--
		}
		return time.UnixMilli(day * 86400000).UTC(), nil
	case "Time":
		tod := ms % 86400000
		if tod < 0 {
			tod += 86400000
		}
		return time.UnixMilli(tod).UTC(), nil
	}
	return time.UnixMilli(ms).UTC(), nil
}

func (t *TimestampConverter) toRaw(v any, from string) (time.Time, error) {
	switch from {
	case "string":
		s, ok := v.(string)
		if !ok {
			return time.Time{}, dataErr("Expected string timestamp to be a String, but found class %s", nullSafeClassName(v))
		}
		if t.format == nil {
			return time.Time{}, &ConfigException{Msg: "TimestampConverter requires format option to be specified when using string timestamps"}
		}
		tm, err := t.format.parse(s)
		if err != nil {
			return time.Time{}, dataErr("Could not parse timestamp: value (%s) does not match pattern (%s)", s, t.pattern)
		}
		return tm, nil
	case "unix":
		n, ok := v.(int64)
		if !ok {
			return time.Time{}, dataErr("Expected Unix timestamp to be a Long, but found class %s", nullSafeClassName(v))
		}
		switch t.precision {
		case "seconds":
			n *= 1000
		case "microseconds":
			n /= 1000
		case "nanoseconds":
			n /= 1000000
		}
		return time.UnixMilli(n).UTC(), nil
	}
	tm, ok := v.(time.Time)
	if !ok {
		return time.Time{}, dataErr("Expected %s to be a java.util.Date, but found class %s", from, nullSafeClassName(v))
	}
	return tm, nil
}

// Close releases nothing.
func (t *TimestampConverter) Close() error { return nil }

// parse reads s with the pattern's numeric fields (y M d H h m s S a and
// literals; zone letters accept Z or ±hhmm / ±hh:mm), in UTC.
func (f *dateFormat) parse(s string) (time.Time, error) {
	year, month, day, hour, min, sec, ms := 1970, 1, 1, 0, 0, 0, 0
	pm, hasAmPm := false, false
	offset := 0
	pos := 0
	for i, p := range f.parts {
		if p.letter == 0 {
			if len(s)-pos < len(p.literal) || s[pos:pos+len(p.literal)] != p.literal {
				return time.Time{}, fmt.Errorf("literal %q expected", p.literal)
			}
			pos += len(p.literal)
			continue
		}
		switch p.letter {
		case 'a':
			if len(s)-pos < 2 {
				return time.Time{}, fmt.Errorf("AM/PM expected")
			}
			hasAmPm, pm = true, s[pos:pos+2] == "PM" || s[pos:pos+2] == "pm"
			pos += 2
			continue
		case 'Z', 'X', 'z':
			n, err := parseZone(s[pos:], &offset)
			if err != nil {
				return time.Time{}, err
			}
			pos += n
			continue
		}
		// Numbers: adjacent numeric fields take exactly their width.
		width := len(s) - pos
		if i+1 < len(f.parts) && f.parts[i+1].letter != 0 {
			width = p.count
		}
		j := pos
		for j < len(s) && j-pos < width && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == pos {
			return time.Time{}, fmt.Errorf("number expected at %d", pos)
		}
		n, _ := strconv.Atoi(s[pos:j])
		pos = j
		switch p.letter {
		case 'y', 'Y':
			year = n
			if p.count == 2 && j-pos <= 2 && n < 100 {
				year = 2000 + n
			}
		case 'M', 'L':
			month = n
		case 'd':
			day = n
		case 'H', 'k':
			hour = n
		case 'h', 'K':
			hour = n % 12
		case 'm':
			min = n
		case 's':
			sec = n
		case 'S':
			ms = n
		}
	}
	if pos != len(s) {
		// SimpleDateFormat.parse ignores trailing text.
		_ = pos
	}
	if hasAmPm && pm {
		hour += 12
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, ms*1e6, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), nil
}

func parseZone(s string, offset *int) (int, error) {
	if len(s) >= 1 && s[0] == 'Z' {
		return 1, nil
	}
	if len(s) >= 3 && s[:3] == "UTC" {
		return 3, nil
	}
	if len(s) >= 3 && s[:3] == "GMT" {
		return 3, nil
	}
	if len(s) < 3 || (s[0] != '+' && s[0] != '-') {
		return 0, fmt.Errorf("zone expected")
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	digits, n := "", 1
	for n < len(s) && len(digits) < 4 && (s[n] >= '0' && s[n] <= '9' || s[n] == ':') {
		if s[n] != ':' {
			digits += string(s[n])
		}
		n++
	}
	if len(digits) != 2 && len(digits) != 4 {
		return 0, fmt.Errorf("zone expected")
	}
	h, _ := strconv.Atoi(digits[:2])
	m := 0
	if len(digits) == 4 {
		m, _ = strconv.Atoi(digits[2:])
	}
	*offset = sign * (h*3600 + m*60)
	return n, nil
}
