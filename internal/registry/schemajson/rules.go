package schemajson

// The rules Check reports. doc.go lists them with one line each. The
// names follow Confluent's vocabulary for JSON Schema differences where it
// has one; ADDED means the reader has a constraint the writer lacks,
// REMOVED the reverse, and INCREASED/DECREASED/NARROWED/CHANGED describe
// the reader's value against the writer's.
const (
	ruleSchemaFalse = "SCHEMA_NARROWED_TO_FALSE"

	ruleTypeNarrowed = "TYPE_NARROWED"
	ruleTypeChanged  = "TYPE_CHANGED"

	ruleEnumAdded    = "ENUM_ARRAY_ADDED"
	ruleEnumNarrowed = "ENUM_ARRAY_NARROWED"
	ruleEnumChanged  = "ENUM_ARRAY_CHANGED"
	ruleConstAdded   = "CONST_ADDED"
	ruleConstChanged = "CONST_CHANGED"

	ruleMinLengthAdded     = "MIN_LENGTH_ADDED"
	ruleMinLengthIncreased = "MIN_LENGTH_INCREASED"
	ruleMaxLengthAdded     = "MAX_LENGTH_ADDED"
	ruleMaxLengthDecreased = "MAX_LENGTH_DECREASED"
	rulePatternAdded       = "PATTERN_ADDED"
	rulePatternChanged     = "PATTERN_CHANGED"
	ruleFormatAdded        = "FORMAT_ADDED"
	ruleFormatChanged      = "FORMAT_CHANGED"

	ruleMinimumAdded              = "MINIMUM_ADDED"
	ruleMinimumIncreased          = "MINIMUM_INCREASED"
	ruleMaximumAdded              = "MAXIMUM_ADDED"
	ruleMaximumDecreased          = "MAXIMUM_DECREASED"
	ruleExclusiveMinimumAdded     = "EXCLUSIVE_MINIMUM_ADDED"
	ruleExclusiveMinimumIncreased = "EXCLUSIVE_MINIMUM_INCREASED"
	ruleExclusiveMaximumAdded     = "EXCLUSIVE_MAXIMUM_ADDED"
	ruleExclusiveMaximumDecreased = "EXCLUSIVE_MAXIMUM_DECREASED"
	ruleMultipleOfAdded           = "MULTIPLE_OF_ADDED"
	ruleMultipleOfChanged         = "MULTIPLE_OF_CHANGED"

	rulePropertyAddedToOpen           = "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
	rulePropertyAddedNotCovered       = "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
	rulePropertyRemovedFromClosed     = "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"
	rulePropertyRemovedNotCovered     = "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
	ruleAdditionalPropertiesRemoved   = "ADDITIONAL_PROPERTIES_REMOVED"
	ruleAdditionalPropertiesNarrowed  = "ADDITIONAL_PROPERTIES_NARROWED"
	ruleRequiredAttributeAdded        = "REQUIRED_ATTRIBUTE_ADDED"
	ruleRequiredPropertyAddedToOpen   = "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
	ruleRequiredPropertyAddedToUnopen = "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
	ruleMinPropertiesAdded            = "MIN_PROPERTIES_ADDED"
	ruleMinPropertiesIncreased        = "MIN_PROPERTIES_INCREASED"
	ruleMaxPropertiesAdded            = "MAX_PROPERTIES_ADDED"
	ruleMaxPropertiesDecreased        = "MAX_PROPERTIES_DECREASED"
	ruleDependencyArrayAdded          = "DEPENDENCY_ARRAY_ADDED"
	ruleDependencyArrayExtended       = "DEPENDENCY_ARRAY_EXTENDED"
	ruleDependencySchemaAdded         = "DEPENDENCY_SCHEMA_ADDED"
	rulePropertyNamesAdded            = "PROPERTY_NAMES_ADDED"

	ruleItemAddedToOpen        = "ITEM_ADDED_TO_OPEN_CONTENT_MODEL"
	ruleItemAddedNotCovered    = "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
	ruleItemRemovedFromClosed  = "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL"
	ruleItemRemovedNotCovered  = "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
	ruleAdditionalItemsRemoved = "ADDITIONAL_ITEMS_REMOVED"
	ruleMinItemsAdded          = "MIN_ITEMS_ADDED"
	ruleMinItemsIncreased      = "MIN_ITEMS_INCREASED"
	ruleMaxItemsAdded          = "MAX_ITEMS_ADDED"
	ruleMaxItemsDecreased      = "MAX_ITEMS_DECREASED"
	ruleUniqueItemsAdded       = "UNIQUE_ITEMS_ADDED"
	ruleContainsAdded          = "CONTAINS_ADDED"
	ruleContainsChanged        = "CONTAINS_CHANGED"
	ruleMinContainsIncreased   = "MIN_CONTAINS_INCREASED"
	ruleMaxContainsDecreased   = "MAX_CONTAINS_DECREASED"

	ruleProductTypeExtended       = "PRODUCT_TYPE_EXTENDED"
	ruleSumTypeNarrowed           = "SUM_TYPE_NARROWED"
	ruleCombinedTypeChanged       = "COMBINED_TYPE_CHANGED"
	ruleCombinedSubschemasChanged = "COMBINED_TYPE_SUBSCHEMAS_CHANGED"
	ruleOneOfOverlap              = "ONE_OF_SUBSCHEMAS_OVERLAP"
	ruleNotTypeExtended           = "NOT_TYPE_EXTENDED"
	ruleConditionalAdded          = "CONDITIONAL_ADDED"
	ruleConditionalChanged        = "CONDITIONAL_CHANGED"

	ruleReferenceCycle  = "REFERENCE_CYCLE"
	ruleCheckTooDeep    = "CHECK_TOO_DEEP"
	ruleCheckTooComplex = "CHECK_TOO_COMPLEX"
	ruleSchemaNotJSON   = "SCHEMA_TYPE_MISMATCH"
)
