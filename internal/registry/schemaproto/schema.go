package schemaproto

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/bufbuild/protocompile/linker"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// The formats Format knows besides "" (Canonical).
const (
	FormatSerialized       = "serialized"
	FormatIgnoreExtensions = "ignore_extensions"
)

// Schema is a compiled Protobuf schema: one .proto file, linked against
// its references. It is immutable and safe for concurrent use.
type Schema struct {
	// file is the compiled file as protobuf-go's own descriptors (see
	// rebuild), or protocompile's when that fails.
	file  protoreflect.FileDescriptor
	types typeResolver // the extensions and messages file can see
	fdp   *descriptorpb.FileDescriptorProto
	// res resolves what protocompile linked, for printing options.
	res        linker.Resolver
	names      *namer
	canonical  string
	normalized string
}

// typeResolver finds the message and extension types Validate decodes.
type typeResolver interface {
	protoregistry.ExtensionTypeResolver
	protoregistry.MessageTypeResolver
}

func newSchema(res linker.Result) (*Schema, error) {
	s := &Schema{fdp: fileProto(res), res: linker.ResolverFromFile(res), names: newNamer(res)}
	s.file, s.types = res, s.res
	if fd, types, err := rebuild(res); err == nil {
		s.file, s.types = fd, types
	}
	s.canonical = printFile(s.fdp, s.res, s.names, false)
	s.normalized = printFile(normalizeFile(s.fdp), s.res, s.names, false)
	return s, nil
}

// File is the compiled file descriptor.
func (s *Schema) File() protoreflect.FileDescriptor { return s.file }

// Canonical is the file printed deterministically (see doc.go).
func (s *Schema) Canonical() string { return s.canonical }

// Normalized is Canonical with order that protobuf ignores made fixed.
func (s *Schema) Normalized() string { return s.normalized }

// Format renders the schema: "" is Canonical; "serialized" is the
// base64 (standard encoding) of the deterministically marshalled
// FileDescriptorProto; "ignore_extensions" is Canonical without extend
// blocks and without custom (extension) options.
func (s *Schema) Format(format string) (string, error) {
	switch format {
	case "":
		return s.canonical, nil
	case FormatSerialized:
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(s.fdp)
		if err != nil {
			return "", fmt.Errorf("serializing the protobuf schema's descriptor: %w", err)
		}
		return base64.StdEncoding.EncodeToString(b), nil
	case FormatIgnoreExtensions:
		return printFile(s.fdp, s.res, s.names, true), nil
	}
	return "", fmt.Errorf("unknown format %q for a protobuf schema; known: %q, %q, %q", format, "", FormatSerialized, FormatIgnoreExtensions)
}

// Validate decodes payload as the message that indexes select (see
// MessageByIndexes), required fields and UTF-8 of proto3 strings
// checked.
func (s *Schema) Validate(payload []byte, indexes []int) error {
	md, err := s.MessageByIndexes(indexes)
	if err != nil {
		return err
	}
	m := dynamicpb.NewMessage(md)
	if err := (proto.UnmarshalOptions{Resolver: s.types}).Unmarshal(payload, m); err != nil {
		return fmt.Errorf("payload does not decode as protobuf message %s: %w", md.FullName(), err)
	}
	return nil
}

// MessageByIndexes returns the message that Confluent's message indexes
// select: the first index picks a top-level message of the file (in
// declaration order), each further index a message nested in the one
// before (in declaration order, map entry and group types included, as
// protoreflect lists them). No indexes, or the single index 0, select the
// first top-level message.
func (s *Schema) MessageByIndexes(indexes []int) (protoreflect.MessageDescriptor, error) {
	msgs := s.file.Messages()
	if len(indexes) == 0 {
		indexes = []int{0}
	}
	var md protoreflect.MessageDescriptor
	for depth, i := range indexes {
		if i < 0 || i >= msgs.Len() {
			where := "the file"
			if md != nil {
				where = "message " + string(md.FullName())
			}
			return nil, fmt.Errorf("message indexes %v: %s has no message at index %d (position %d); it has %d", indexes, where, i, depth, msgs.Len())
		}
		md = msgs.Get(i)
		msgs = md.Messages()
	}
	return md, nil
}

// MessageIndexes returns the message indexes of the message named
// fullName (with or without a leading dot), as a serializer writes them
// after the schema id: the path from the file's top-level messages down
// through nested messages.
func (s *Schema) MessageIndexes(fullName string) ([]int, error) {
	name := protoreflect.FullName(strings.TrimPrefix(fullName, "."))
	md := findMessage(s.file.Messages(), name)
	if md == nil {
		return nil, fmt.Errorf("protobuf schema has no message named %q", fullName)
	}
	var path []int
	for d := protoreflect.Descriptor(md); d != nil; d = d.Parent() {
		if _, isFile := d.(protoreflect.FileDescriptor); isFile {
			break
		}
		path = append(path, d.Index())
	}
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	if len(path) == 0 {
		return nil, errors.New("protobuf message has no index path")
	}
	return path, nil
}

// findMessage finds the message named name among ms and their nested
// messages, descending only into messages whose name is a prefix of name.
func findMessage(ms protoreflect.MessageDescriptors, name protoreflect.FullName) protoreflect.MessageDescriptor {
	for i := 0; i < ms.Len(); i++ {
		m := ms.Get(i)
		switch full := m.FullName(); {
		case full == name:
			return m
		case strings.HasPrefix(string(name), string(full)+"."):
			return findMessage(m.Messages(), name)
		}
	}
	return nil
}

// rebuild turns the compiled file and everything it imports into
// protobuf-go's own descriptors, whose lookups by field number and name
// are indexed (protocompile's scan linearly, which makes decoding and
// comparing a message with thousands of fields quadratic).
func rebuild(res linker.Result) (protoreflect.FileDescriptor, typeResolver, error) {
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	var add func(protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		for i := 0; i < fd.Imports().Len(); i++ {
			add(fd.Imports().Get(i).FileDescriptor)
		}
		if r, ok := fd.(linker.Result); ok {
			set.File = append(set.File, r.FileDescriptorProto())
			return
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
	}
	add(res)
	files, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, nil, err
	}
	fd, err := files.FindFileByPath(res.Path())
	if err != nil {
		return nil, nil, err
	}
	return fd, dynamicpb.NewTypes(files), nil
}
