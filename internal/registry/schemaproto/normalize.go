package schemaproto

import (
	"cmp"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// normalizeFile returns a copy of fdp with every order that protobuf
// semantics ignore fixed: imports by path, enums and services by name, fields by number, enum values by number after the first (the default), aliases by name,
// extensions by extendee then number, methods by name, reserved ranges
// and extension ranges by start, reserved names alphabetically. Oneof
// declarations keep their indexes; each prints at its lowest-numbered
// member. Options are always printed sorted (see options). Messages keep
// their declaration order, which Confluent's message indexes depend on.
func normalizeFile(fdp *descriptorpb.FileDescriptorProto) *descriptorpb.FileDescriptorProto {
	f := proto.Clone(fdp).(*descriptorpb.FileDescriptorProto)
	sortImports(f)
	sortMessages(f.MessageType)
	sortEnums(f.EnumType)
	sortExtensions(f.Extension)
	slices.SortFunc(f.Service, func(a, b *descriptorpb.ServiceDescriptorProto) int {
		return strings.Compare(a.GetName(), b.GetName())
	})
	for _, s := range f.Service {
		slices.SortFunc(s.Method, func(a, b *descriptorpb.MethodDescriptorProto) int {
			return strings.Compare(a.GetName(), b.GetName())
		})
	}
	return f
}

func sortImports(f *descriptorpb.FileDescriptorProto) {
	type imp struct {
		path         string
		public, weak bool
	}
	imps := make([]imp, len(f.Dependency))
	for i, d := range f.Dependency {
		imps[i] = imp{path: d}
	}
	for _, i := range f.PublicDependency {
		if int(i) < len(imps) {
			imps[i].public = true
		}
	}
	for _, i := range f.WeakDependency {
		if int(i) < len(imps) {
			imps[i].weak = true
		}
	}
	slices.SortFunc(imps, func(a, b imp) int { return strings.Compare(a.path, b.path) })
	f.Dependency, f.PublicDependency, f.WeakDependency = nil, nil, nil
	for i, m := range imps {
		f.Dependency = append(f.Dependency, m.path)
		if m.public {
			f.PublicDependency = append(f.PublicDependency, int32(i))
		}
		if m.weak {
			f.WeakDependency = append(f.WeakDependency, int32(i))
		}
	}
}

// sortMessages sorts what is inside each message, not the messages:
// their order is what message indexes count.
func sortMessages(ms []*descriptorpb.DescriptorProto) {
	for _, m := range ms {
		slices.SortStableFunc(m.Field, func(a, b *descriptorpb.FieldDescriptorProto) int {
			return cmp.Compare(a.GetNumber(), b.GetNumber())
		})
		sortExtensions(m.Extension)
		slices.SortFunc(m.ReservedRange, func(a, b *descriptorpb.DescriptorProto_ReservedRange) int {
			return cmp.Compare(a.GetStart(), b.GetStart())
		})
		slices.SortFunc(m.ExtensionRange, func(a, b *descriptorpb.DescriptorProto_ExtensionRange) int {
			return cmp.Compare(a.GetStart(), b.GetStart())
		})
		slices.Sort(m.ReservedName)
		sortMessages(m.NestedType)
		sortEnums(m.EnumType)
	}
}

func sortEnums(es []*descriptorpb.EnumDescriptorProto) {
	slices.SortFunc(es, func(a, b *descriptorpb.EnumDescriptorProto) int {
		return strings.Compare(a.GetName(), b.GetName())
	})
	for _, e := range es {
		// The first value is the default (and in proto3 must be 0): it
		// stays first.
		slices.SortFunc(e.Value[min(1, len(e.Value)):], func(a, b *descriptorpb.EnumValueDescriptorProto) int {
			return cmp.Or(cmp.Compare(a.GetNumber(), b.GetNumber()), strings.Compare(a.GetName(), b.GetName()))
		})
		slices.SortFunc(e.ReservedRange, func(a, b *descriptorpb.EnumDescriptorProto_EnumReservedRange) int {
			return cmp.Compare(a.GetStart(), b.GetStart())
		})
		slices.Sort(e.ReservedName)
	}
}

func sortExtensions(xs []*descriptorpb.FieldDescriptorProto) {
	slices.SortFunc(xs, func(a, b *descriptorpb.FieldDescriptorProto) int {
		return cmp.Or(strings.Compare(a.GetExtendee(), b.GetExtendee()), cmp.Compare(a.GetNumber(), b.GetNumber()))
	})
}
