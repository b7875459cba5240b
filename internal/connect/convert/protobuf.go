package convert

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/samsa-streaming/samsa/connect"
)

// ProtobufConverter is io.confluent.connect.protobuf.ProtobufConverter.
type ProtobufConverter struct {
	reg *registryClient
}

type protoWriter struct {
	text, name string
	md         protoreflect.MessageDescriptor
}

type protoParsed struct {
	file protoreflect.FileDescriptor
	// schemas caches the Connect schema per message full name.
	schemas map[protoreflect.FullName]*connect.Schema
}

// Configure reads the registry settings.
func (c *ProtobufConverter) Configure(props map[string]string, isKey bool) error {
	cfg, err := parseRegistryConfig(props, isKey)
	if err != nil {
		return err
	}
	c.reg, err = newRegistryClient(cfg)
	return err
}

// Version reports the Confluent version whose behaviour this follows.
func (c *ProtobufConverter) Version() string { return confluentVersion }

// Config describes the settings.
func (c *ProtobufConverter) Config() *connect.ConfigDef { return RegistryConfigDef() }

// FromConnect registers the .proto for s and writes v.
func (c *ProtobufConverter) FromConnect(topic string, headers []connect.Header, s *connect.Schema, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	w, err := c.reg.writer(s, func() (any, error) {
		text, full, err := ConnectToProtoSchema(s)
		if err != nil {
			return nil, err
		}
		fd, err := compileProto(text, nil)
		if err != nil {
			return nil, err
		}
		md, err := messageAt(fd, nil)
		if err != nil {
			return nil, err
		}
		return &protoWriter{text: text, name: full, md: md}, nil
	})
	if err != nil {
		return nil, err
	}
	pw := w.(*protoWriter)
	subject, err := c.reg.subject(topic, pw.name)
	if err != nil {
		return nil, err
	}
	id, latest, err := c.reg.idFor(subject, sr.Schema{Schema: pw.text, Type: sr.TypeProtobuf})
	if err != nil {
		return nil, err
	}
	md := pw.md
	if latest != nil {
		p, err := c.reg.parsed(latest.ID, c.parseSchema)
		if err != nil {
			return nil, err
		}
		if md, err = messageAt(p.(*protoParsed).file, nil); err != nil {
			return nil, err
		}
	}
	st, ok := v.(*connect.Struct)
	if !ok {
		return nil, dataErr(fmt.Sprintf("Invalid type for STRUCT: %s", goJavaClass(v)))
	}
	msg, err := structToProto(md, st, 0)
	if err != nil {
		return nil, err
	}
	payload, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
	if err != nil {
		return nil, dataErrCause("Failed to serialize Protobuf data:", err)
	}
	return frame(id, []int{0}, payload), nil
}

// ToConnect reads the schema id and message indexes and decodes.
func (c *ProtobufConverter) ToConnect(topic string, headers []connect.Header, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return nil, nil, nil
	}
	id, idx, payload, err := unframe(data, headers, c.reg.cfg.IsKey, true)
	if err != nil {
		return nil, nil, err
	}
	p, err := c.reg.parsed(id, c.parseSchema)
	if err != nil {
		return nil, nil, err
	}
	pp := p.(*protoParsed)
	md, err := messageAt(pp.file, idx)
	if err != nil {
		return nil, nil, err
	}
	c.reg.mu.Lock()
	s, ok := pp.schemas[md.FullName()]
	c.reg.mu.Unlock()
	if !ok {
		if s, err = protoToConnectSchema(md, 0); err != nil {
			return nil, nil, err
		}
		c.reg.mu.Lock()
		if len(pp.schemas) < 1024 {
			pp.schemas[md.FullName()] = s
		}
		c.reg.mu.Unlock()
	}
	msg := dynamicpb.NewMessage(md)
	if err := (proto.UnmarshalOptions{RecursionLimit: 100}).Unmarshal(payload, msg); err != nil {
		return nil, nil, dataErrCause(fmt.Sprintf("Failed to deserialize Protobuf data for topic %s to Connect:", topic), err)
	}
	v, err := protoToStruct(s, msg, 0)
	if err != nil {
		return nil, nil, err
	}
	return s, v, nil
}

func (c *ProtobufConverter) parseSchema(s sr.Schema) (any, error) {
	if s.Type != sr.TypeProtobuf {
		return nil, dataErr(fmt.Sprintf("Failed to deserialize data: schema is %s, not PROTOBUF", s.Type))
	}
	var refs []namedText
	if err := c.reg.references(s, map[string]bool{}, &refs, 0); err != nil {
		return nil, err
	}
	fd, err := compileProto(s.Schema, refs)
	if err != nil {
		return nil, err
	}
	return &protoParsed{file: fd, schemas: map[protoreflect.FullName]*connect.Schema{}}, nil
}

// protoToConnectSchema maps a message to a struct whose fields are all
// optional (proto3 has no required fields).
func protoToConnectSchema(md protoreflect.MessageDescriptor, depth int) (*connect.Schema, error) {
	if depth > 64 {
		return nil, dataErr("Protobuf message nesting too deep (recursive messages are not supported by Connect)")
	}
	s := &connect.Schema{Type: connect.StructT, Name: string(md.FullName()), Optional: depth > 0}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		fs, err := protoFieldSchema(fd, depth)
		if err != nil {
			return nil, err
		}
		s.Fields = append(s.Fields, connect.Field{Name: string(fd.Name()), Index: i, Schema: fs})
	}
	return s, nil
}

func protoFieldSchema(fd protoreflect.FieldDescriptor, depth int) (*connect.Schema, error) {
	if fd.IsMap() {
		ks, err := protoKindSchema(fd.MapKey(), depth)
		if err != nil {
			return nil, err
		}
		vs, err := protoKindSchema(fd.MapValue(), depth)
		if err != nil {
			return nil, err
		}
		return &connect.Schema{Type: connect.Map, Key: ks, Value: vs, Optional: true}, nil
	}
	es, err := protoKindSchema(fd, depth)
	if err != nil {
		return nil, err
	}
	if fd.IsList() {
		return &connect.Schema{Type: connect.Array, Value: es, Optional: true}, nil
	}
	return es, nil
}

func protoKindSchema(fd protoreflect.FieldDescriptor, depth int) (*connect.Schema, error) {
	one := int32(1)
	params := fieldParams(fd)
	s := &connect.Schema{Optional: true}
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		s.Type = connect.Int32
		switch params["connect.type"] {
		case "int8":
			s.Type = connect.Int8
		case "int16":
			s.Type = connect.Int16
		}
		if n := params["connect.name"]; n == connect.DateName || n == connect.TimeName {
			s.Name, s.Version = n, &one
		}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Int64Kind, protoreflect.Sint64Kind,
		protoreflect.Sfixed64Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		s.Type = connect.Int64
	case protoreflect.FloatKind:
		s.Type = connect.Float32
	case protoreflect.DoubleKind:
		s.Type = connect.Float64
	case protoreflect.BoolKind:
		s.Type = connect.Boolean
	case protoreflect.StringKind, protoreflect.EnumKind:
		s.Type = connect.String
	case protoreflect.BytesKind:
		s.Type = connect.Bytes
	case protoreflect.MessageKind, protoreflect.GroupKind:
		md := fd.Message()
		switch md.FullName() {
		case protoTimestamp:
			return &connect.Schema{Type: connect.Int64, Name: connect.TimestampName, Version: &one, Optional: true}, nil
		case protoDecimal:
			scale := params[protoScaleParam]
			if scale == "" {
				scale = "0"
			}
			return &connect.Schema{Type: connect.Bytes, Name: connect.DecimalName, Version: &one, Optional: true,
				Parameters: map[string]string{connect.DecimalScaleParam: scale}}, nil
		}
		if w := wrapperSchema(md.FullName()); w != nil {
			return w, nil
		}
		return protoToConnectSchema(md, depth+1)
	default:
		return nil, dataErr(fmt.Sprintf("Unsupported protobuf field kind %s", fd.Kind()))
	}
	return s, nil
}

// wrapperSchema maps google.protobuf.*Value wrappers to optional scalars.
func wrapperSchema(name protoreflect.FullName) *connect.Schema {
	t, ok := map[protoreflect.FullName]connect.Type{
		"google.protobuf.DoubleValue": connect.Float64, "google.protobuf.FloatValue": connect.Float32,
		"google.protobuf.Int64Value": connect.Int64, "google.protobuf.UInt64Value": connect.Int64,
		"google.protobuf.Int32Value": connect.Int32, "google.protobuf.UInt32Value": connect.Int64,
		"google.protobuf.BoolValue": connect.Boolean, "google.protobuf.StringValue": connect.String,
		"google.protobuf.BytesValue": connect.Bytes,
	}[name]
	if !ok {
		return nil
	}
	return &connect.Schema{Type: t, Optional: true}
}

// structToProto fills a dynamic message of md from st (fields by name).
func structToProto(md protoreflect.MessageDescriptor, st *connect.Struct, depth int) (*dynamicpb.Message, error) {
	if depth > 64 {
		return nil, dataErr("Value nesting too deep")
	}
	msg := dynamicpb.NewMessage(md)
	for _, f := range st.Schema.Fields {
		v := st.Values[f.Index]
		if v == nil {
			v = f.Schema.Default
		}
		fd := md.Fields().ByName(protoreflect.Name(f.Name))
		if v == nil || fd == nil {
			continue
		}
		if err := setProtoField(msg, fd, f.Schema, v, depth); err != nil {
			return nil, fmt.Errorf("%w (field %s)", err, f.Name)
		}
	}
	return msg, nil
}

func setProtoField(msg *dynamicpb.Message, fd protoreflect.FieldDescriptor, s *connect.Schema, v any, depth int) error {
	switch {
	case fd.IsMap():
		entries, _, ok := mapEntries(v)
		if !ok {
			return dataErr(fmt.Sprintf("Invalid type for MAP: %s", goJavaClass(v)))
		}
		m := msg.Mutable(fd).Map()
		for _, e := range entries {
			k, err := protoScalar(fd.MapKey(), nil, e.k, depth)
			if err != nil {
				return err
			}
			if e.v == nil {
				continue
			}
			pv, err := protoScalar(fd.MapValue(), nonNil(s.Value), e.v, depth)
			if err != nil {
				return err
			}
			m.Set(k.MapKey(), pv)
		}
	case fd.IsList():
		a, ok := v.([]any)
		if !ok {
			return dataErr(fmt.Sprintf("Invalid type for ARRAY: %s", goJavaClass(v)))
		}
		l := msg.Mutable(fd).List()
		for _, e := range a {
			if e == nil {
				return dataErr("Protobuf repeated fields cannot hold null elements")
			}
			pv, err := protoScalar(fd, nonNil(s.Value), e, depth)
			if err != nil {
				return err
			}
			l.Append(pv)
		}
	default:
		pv, err := protoScalar(fd, s, v, depth)
		if err != nil {
			return err
		}
		msg.Set(fd, pv)
	}
	return nil
}

func protoScalar(fd protoreflect.FieldDescriptor, s *connect.Schema, v any, depth int) (protoreflect.Value, error) {
	bad := func() (protoreflect.Value, error) {
		return protoreflect.Value{}, dataErr(fmt.Sprintf("Invalid value %s for protobuf field of kind %s", goJavaClass(v), fd.Kind()))
	}
	if t, ok := v.(time.Time); ok && fd.Kind() != protoreflect.MessageKind && s != nil {
		n, err := TimeFromLogical(s.Name, t)
		if err != nil {
			return protoreflect.Value{}, err
		}
		v = int32(n)
	}
	n, isInt := toInt64(v)
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if !isInt || n < math.MinInt32 || n > math.MaxInt32 {
			return bad()
		}
		return protoreflect.ValueOfInt32(int32(n)), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if !isInt {
			return bad()
		}
		return protoreflect.ValueOfInt64(n), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		if !isInt || n < 0 || n > math.MaxUint32 {
			return bad()
		}
		return protoreflect.ValueOfUint32(uint32(n)), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if !isInt || n < 0 {
			return bad()
		}
		return protoreflect.ValueOfUint64(uint64(n)), nil
	case protoreflect.FloatKind:
		if f, ok := v.(float32); ok {
			return protoreflect.ValueOfFloat32(f), nil
		}
		return bad()
	case protoreflect.DoubleKind:
		if f, ok := v.(float64); ok {
			return protoreflect.ValueOfFloat64(f), nil
		}
		return bad()
	case protoreflect.BoolKind:
		if b, ok := v.(bool); ok {
			return protoreflect.ValueOfBool(b), nil
		}
		return bad()
	case protoreflect.StringKind:
		if str, ok := v.(string); ok {
			return protoreflect.ValueOfString(str), nil
		}
		return bad()
	case protoreflect.BytesKind:
		if b, ok := v.([]byte); ok {
			return protoreflect.ValueOfBytes(b), nil
		}
		return bad()
	case protoreflect.EnumKind:
		str, ok := v.(string)
		if !ok {
			return bad()
		}
		ev := fd.Enum().Values().ByName(protoreflect.Name(str))
		if ev == nil {
			return protoreflect.Value{}, dataErr("Unknown enum symbol " + str)
		}
		return protoreflect.ValueOfEnum(ev.Number()), nil
	case protoreflect.MessageKind:
		return protoMessageValue(fd.Message(), s, v, depth)
	}
	return bad()
}

func protoMessageValue(md protoreflect.MessageDescriptor, s *connect.Schema, v any, depth int) (protoreflect.Value, error) {
	msg := dynamicpb.NewMessage(md)
	switch md.FullName() {
	case protoTimestamp:
		t, ok := v.(time.Time)
		if !ok {
			return protoreflect.Value{}, dataErr("Invalid type for Timestamp: " + goJavaClass(v))
		}
		msg.Set(md.Fields().ByName("seconds"), protoreflect.ValueOfInt64(t.Unix()))
		msg.Set(md.Fields().ByName("nanos"), protoreflect.ValueOfInt32(int32(t.Nanosecond())))
		return protoreflect.ValueOfMessage(msg), nil
	case protoDecimal:
		d, ok := v.(connect.Decimal)
		if !ok {
			return protoreflect.Value{}, dataErr("Invalid type for Decimal: " + goJavaClass(v))
		}
		msg.Set(md.Fields().ByName("value"), protoreflect.ValueOfBytes(TwosComplement(d.Unscaled)))
		msg.Set(md.Fields().ByName("precision"), protoreflect.ValueOfUint32(uint32(len(d.Unscaled.String()))))
		msg.Set(md.Fields().ByName("scale"), protoreflect.ValueOfInt32(d.Scale))
		return protoreflect.ValueOfMessage(msg), nil
	}
	if w := wrapperSchema(md.FullName()); w != nil {
		pv, err := protoScalar(md.Fields().ByName("value"), w, v, depth)
		if err != nil {
			return protoreflect.Value{}, err
		}
		msg.Set(md.Fields().ByName("value"), pv)
		return protoreflect.ValueOfMessage(msg), nil
	}
	st, ok := v.(*connect.Struct)
	if !ok {
		return protoreflect.Value{}, dataErr(fmt.Sprintf("Invalid type for STRUCT: %s", goJavaClass(v)))
	}
	m, err := structToProto(md, st, depth+1)
	if err != nil {
		return protoreflect.Value{}, err
	}
	return protoreflect.ValueOfMessage(m), nil
}

// protoToStruct converts a decoded message to a struct of schema s.
func protoToStruct(s *connect.Schema, msg protoreflect.Message, depth int) (*connect.Struct, error) {
	if depth > 64 {
		return nil, dataErr("Value nesting too deep")
	}
	st := connect.NewStruct(s)
	fields := msg.Descriptor().Fields()
	for _, f := range s.Fields {
		fd := fields.ByName(protoreflect.Name(f.Name))
		if fd == nil {
			continue
		}
		if fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() && !msg.Has(fd) {
			continue // an unset message field is null
		}
		v, err := protoFieldValue(fd, f.Schema, msg.Get(fd), depth)
		if err != nil {
			return nil, err
		}
		st.Values[f.Index] = v
	}
	return st, nil
}

func protoFieldValue(fd protoreflect.FieldDescriptor, s *connect.Schema, v protoreflect.Value, depth int) (any, error) {
	switch {
	case fd.IsMap():
		out := map[any]any{}
		strKeys := s.Key != nil && s.Key.Type == connect.String
		sm := map[string]any{}
		var ferr error
		v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			kv, err := protoValue(fd.MapKey(), s.Key, k.Value(), depth)
			if err != nil {
				ferr = err
				return false
			}
			vv, err := protoValue(fd.MapValue(), s.Value, mv, depth)
			if err != nil {
				ferr = err
				return false
			}
			if strKeys {
				sm[kv.(string)] = vv
			} else {
				out[kv] = vv
			}
			return true
		})
		if strKeys {
			return sm, ferr
		}
		return out, ferr
	case fd.IsList():
		l := v.List()
		out := make([]any, l.Len())
		for i := range out {
			ev, err := protoValue(fd, s.Value, l.Get(i), depth)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	}
	return protoValue(fd, s, v, depth)
}

func protoValue(fd protoreflect.FieldDescriptor, s *connect.Schema, v protoreflect.Value, depth int) (any, error) {
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n := v.Int()
		switch {
		case s.Name == connect.DateName || s.Name == connect.TimeName:
			return TimeToLogical(s.Name, n)
		case s.Type == connect.Int8:
			return int8(n), nil
		case s.Type == connect.Int16:
			return int16(n), nil
		}
		return int32(n), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return v.Int(), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return int64(v.Uint()), nil
	case protoreflect.FloatKind:
		return float32(v.Float()), nil
	case protoreflect.DoubleKind:
		return v.Float(), nil
	case protoreflect.BoolKind:
		return v.Bool(), nil
	case protoreflect.StringKind:
		return v.String(), nil
	case protoreflect.BytesKind:
		return append([]byte(nil), v.Bytes()...), nil
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name()), nil
		}
		return strconv.Itoa(int(v.Enum())), nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return protoMessageToConnect(s, v.Message(), depth)
	}
	return nil, dataErr(fmt.Sprintf("Unsupported protobuf field kind %s", fd.Kind()))
}

func protoMessageToConnect(s *connect.Schema, m protoreflect.Message, depth int) (any, error) {
	md := m.Descriptor()
	switch md.FullName() {
	case protoTimestamp:
		sec := m.Get(md.Fields().ByName("seconds")).Int()
		nanos := m.Get(md.Fields().ByName("nanos")).Int()
		return time.Unix(sec, nanos).UTC().Truncate(time.Millisecond), nil
	case protoDecimal:
		u, ok := FromTwosComplement(m.Get(md.Fields().ByName("value")).Bytes())
		if !ok {
			return nil, dataErr("Invalid bytes for Decimal field")
		}
		return connect.Decimal{Unscaled: u, Scale: int32(m.Get(md.Fields().ByName("scale")).Int())}, nil
	}
	if w := wrapperSchema(md.FullName()); w != nil {
		return protoValue(md.Fields().ByName("value"), w, m.Get(md.Fields().ByName("value")), depth)
	}
	return protoToStruct(s, m, depth+1)
}
