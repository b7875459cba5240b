package schemaavro

// kind is an Avro schema type.
type kind uint8

const (
	kNull kind = iota
	kBoolean
	kInt
	kLong
	kFloat
	kDouble
	kBytes
	kString
	kRecord
	kEnum
	kFixed
	kArray
	kMap
	kUnion
)

var kindNames = [...]string{
	kNull: "null", kBoolean: "boolean", kInt: "int", kLong: "long",
	kFloat: "float", kDouble: "double", kBytes: "bytes", kString: "string",
	kRecord: "record", kEnum: "enum", kFixed: "fixed", kArray: "array",
	kMap: "map", kUnion: "union",
}

func (k kind) String() string { return kindNames[k] }

// primitives maps the primitive type names to their kinds.
var primitives = map[string]kind{
	"null": kNull, "boolean": kBoolean, "int": kInt, "long": kLong,
	"float": kFloat, "double": kDouble, "bytes": kBytes, "string": kString,
}

// typeNames are the names Avro Java writes qualified even in their own
// namespace (Schema.Name.shouldWriteFull), as a reference "int" would
// otherwise read as the primitive.
var typeNames = map[string]bool{
	"null": true, "boolean": true, "int": true, "long": true, "float": true,
	"double": true, "bytes": true, "string": true, "record": true,
	"enum": true, "array": true, "map": true, "union": true, "fixed": true,
}

// node is one parsed schema. Named types (record, enum, fixed) are one
// node shared by every use, so the graph has cycles for recursive types.
type node struct {
	kind  kind
	props []member // properties that are not reserved, in text order

	// Named types.
	name    string // the simple name
	space   string // the namespace; "" is the null namespace
	doc     *string
	aliases []string // full names
	dep     bool     // defined by a referenced schema

	isError     bool     // a record declared as "error"
	fields      []*field // record
	symbols     []string // enum
	enumDefault *string  // enum
	size        int      // fixed

	items    *node   // array items, map values
	branches []*node // union
}

// field is one field of a record.
type field struct {
	name    string
	typ     *node
	doc     *string
	def     *jval // nil: no default
	order   string
	aliases []string
	props   []member
}

// named reports whether n is a record, enum or fixed.
func (n *node) named() bool {
	return n.kind == kRecord || n.kind == kEnum || n.kind == kFixed
}

// fullName is the namespace-qualified name of a named type.
func (n *node) fullName() string {
	if n.space == "" {
		return n.name
	}
	return n.space + "." + n.name
}

// qualified is Avro Java's Name.getQualified: the simple name when the
// type is in space (and is not spelled like a type), else the full name.
func qualified(fullName, space string) string {
	s, name := splitName(fullName)
	if s != "" && s == space && !typeNames[name] {
		return name
	}
	return fullName
}

// splitName splits a full name at its last dot.
func splitName(full string) (space, name string) {
	for i := len(full) - 1; i >= 0; i-- {
		if full[i] == '.' {
			return full[:i], full[i+1:]
		}
	}
	return "", full
}

// field returns the record's field named name, or nil.
func (n *node) field(name string) *field {
	for _, f := range n.fields {
		if f.name == name {
			return f
		}
	}
	return nil
}
