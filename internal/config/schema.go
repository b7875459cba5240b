package config

// SchemaValidationConfig is Samsa's topic setting that turns broker-side
// schema validation on: the broker checks the keys, the values or both of
// every produced record against the schema registry (Confluent's
// TopicNameStrategy subjects <topic>-key and <topic>-value) and refuses a
// batch holding a record that fails with INVALID_RECORD. It has no broker
// default: "none" unless the topic sets it.
const SchemaValidationConfig = "samsa.schema.validation"

// schemaValidationValues are samsa.schema.validation's values, in the
// order the error message lists them.
var schemaValidationValues = []string{"none", "key", "value", "both"}

// SchemaValidation is samsa.schema.validation resolved: which parts of a
// record are validated.
type SchemaValidation uint8

// SchemaValidation values; Both is Key|Value.
const (
	SchemaValidationNone  SchemaValidation = 0
	SchemaValidationKey   SchemaValidation = 1
	SchemaValidationValue SchemaValidation = 2
	SchemaValidationBoth                   = SchemaValidationKey | SchemaValidationValue
)

// ParseSchemaValidation reads a samsa.schema.validation value; anything
// but key, value and both (which the setting's check refuses) is none.
func ParseSchemaValidation(v string) SchemaValidation {
	switch v {
	case "key":
		return SchemaValidationKey
	case "value":
		return SchemaValidationValue
	case "both":
		return SchemaValidationBoth
	}
	return SchemaValidationNone
}

// Key reports whether record keys are validated.
func (v SchemaValidation) Key() bool { return v&SchemaValidationKey != 0 }

// Value reports whether record values are validated.
func (v SchemaValidation) Value() bool { return v&SchemaValidationValue != 0 }

// String is the setting's value for v.
func (v SchemaValidation) String() string {
	if int(v) < len(schemaValidationValues) {
		return schemaValidationValues[v]
	}
	return "none"
}
