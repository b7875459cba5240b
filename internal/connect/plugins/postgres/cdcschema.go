package postgres

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// PostgreSQL type OIDs the CDC source maps (pg_type.dat).
const (
	oidBool        = 16
	oidBytea       = 17
	oidChar        = 18
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidOID         = 26
	oidJSON        = 114
	oidFloat4      = 700
	oidFloat8      = 701
	oidBpchar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidNumeric     = 1700
	oidUUID        = 2950
	oidJSONB       = 3802
)

// Debezium's semantic type names.
const (
	dbzDate          = "io.debezium.time.Date"
	dbzTimestamp     = "io.debezium.time.Timestamp"
	dbzMicroTS       = "io.debezium.time.MicroTimestamp"
	dbzZonedTS       = "io.debezium.time.ZonedTimestamp"
	dbzTime          = "io.debezium.time.Time"
	dbzMicroTime     = "io.debezium.time.MicroTime"
	dbzUUID          = "io.debezium.data.Uuid"
	dbzJSON          = "io.debezium.data.Json"
	dbzVarDecimal    = "io.debezium.data.VariableScaleDecimal"
	dbzSourceName    = "io.debezium.connector.postgresql.Source"
	dbzEnum          = "io.debezium.data.Enum"
	dbzTxBlock       = "event.block"
	debeziumVersion  = "3.6.1.Final"
	decimalPrecision = "connect.decimal.precision"
)

// pgColumn is one column of a captured table.
type pgColumn struct {
	Name    string
	OID     uint32
	TypMod  int32
	Key     bool
	NotNull bool
}

var one = int32(1)

func versioned(s *connect.Schema) *connect.Schema { s.Version = &one; return s }

// timePrecision is the fractional digits of a time type modifier.
func timePrecision(typmod int32) int {
	if typmod < 0 {
		return 6
	}
	return int(typmod)
}

// columnSchema maps a column as Debezium does with its defaults
// (decimal.handling.mode=precise, time.precision.mode=adaptive).
func columnSchema(c pgColumn, optional bool) *connect.Schema {
	s := &connect.Schema{Optional: optional}
	switch c.OID {
	case oidBool:
		s.Type = connect.Boolean
	case oidInt2:
		s.Type = connect.Int16
	case oidInt4:
		s.Type = connect.Int32
	case oidInt8, oidOID:
		s.Type = connect.Int64
	case oidFloat4:
		s.Type = connect.Float32
	case oidFloat8:
		s.Type = connect.Float64
	case oidBytea:
		s.Type = connect.Bytes
	case oidNumeric:
		if c.TypMod < 0 {
			s.Type, s.Name, s.Doc = connect.StructT, dbzVarDecimal, "Variable scaled decimal"
			s.Fields = []connect.Field{{Name: "scale", Index: 0, Schema: connect.SchemaInt32}, {Name: "value", Index: 1, Schema: connect.SchemaBytes}}
			return versioned(s)
		}
		p, sc := ((c.TypMod-4)>>16)&0xffff, (c.TypMod-4)&0xffff
		s.Type, s.Name = connect.Bytes, connect.DecimalName
		s.Parameters = map[string]string{connect.DecimalScaleParam: strconv.Itoa(int(sc)), decimalPrecision: strconv.Itoa(int(p))}
		return versioned(s)
	case oidDate:
		s.Type, s.Name = connect.Int32, dbzDate
		return versioned(s)
	case oidTimestamp:
		s.Type, s.Name = connect.Int64, dbzMicroTS
		if timePrecision(c.TypMod) <= 3 {
			s.Name = dbzTimestamp
		}
		return versioned(s)
	case oidTime:
		s.Type, s.Name = connect.Int64, dbzMicroTime
		if timePrecision(c.TypMod) <= 3 {
			s.Type, s.Name = connect.Int32, dbzTime
		}
		return versioned(s)
	case oidTimestamptz:
		s.Type, s.Name = connect.String, dbzZonedTS
		return versioned(s)
	case oidUUID:
		s.Type, s.Name = connect.String, dbzUUID
		return versioned(s)
	case oidJSON, oidJSONB:
		s.Type, s.Name = connect.String, dbzJSON
		return versioned(s)
	default:
		s.Type = connect.String
	}
	return s
}

// columnValue parses pgoutput's text form of a value for c's schema.
func columnValue(c pgColumn, s *connect.Schema, text string) (any, error) {
	switch c.OID {
	case oidBool:
		return text == "t", nil
	case oidInt2:
		n, err := strconv.ParseInt(text, 10, 16)
		return int16(n), err
	case oidInt4:
		n, err := strconv.ParseInt(text, 10, 32)
		return int32(n), err
	case oidInt8, oidOID:
		return strconv.ParseInt(text, 10, 64)
	case oidFloat4:
		f, err := strconv.ParseFloat(text, 32)
		return float32(f), err
	case oidFloat8:
		return strconv.ParseFloat(text, 64)
	case oidBytea:
		return hex.DecodeString(strings.TrimPrefix(text, `\x`))
	case oidNumeric:
		return numericValue(s, text)
	case oidDate:
		d, err := time.Parse("2006-01-02", text)
		return int32(d.Unix() / 86400), err
	case oidTimestamp:
		ts, err := time.Parse("2006-01-02 15:04:05.999999", text)
		if s.Name == dbzTimestamp {
			return ts.UnixMilli(), err
		}
		return ts.UnixMicro(), err
	case oidTime:
		tm, err := time.Parse("15:04:05.999999", text)
		micros := int64(tm.Hour())*3600e6 + int64(tm.Minute())*60e6 + int64(tm.Second())*1e6 + int64(tm.Nanosecond()/1000)
		if s.Name == dbzTime {
			return int32(micros / 1000), err
		}
		return micros, err
	case oidTimestamptz:
		return zonedTimestamp(text, timePrecision(c.TypMod))
	}
	return text, nil
}

// zonedTimestamp renders a timestamptz in UTC as Debezium's
// ZonedTimestamp: ISO-8601 with the column's fractional digits.
func zonedTimestamp(text string, precision int) (string, error) {
	ts, err := time.Parse("2006-01-02 15:04:05.999999-07", text)
	if err != nil {
		if ts, err = time.Parse("2006-01-02 15:04:05.999999-07:00", text); err != nil {
			return "", fmt.Errorf("timestamptz %q: %w", text, err)
		}
	}
	layout := "2006-01-02T15:04:05"
	if precision > 0 {
		layout += "." + strings.Repeat("0", precision)
	}
	return ts.UTC().Format(layout) + "Z", nil
}

// numericValue parses a numeric's text into Decimal (fixed scale) or
// VariableScaleDecimal.
func numericValue(s *connect.Schema, text string) (any, error) {
	r, ok := new(big.Rat).SetString(text)
	if !ok {
		return nil, fmt.Errorf("numeric %q is not a number (NaN and infinities are not supported)", text)
	}
	scale := int32(0)
	if i := strings.IndexByte(text, '.'); i >= 0 {
		scale = int32(len(text) - i - 1)
	}
	if s.Name == connect.DecimalName {
		if n, err := strconv.Atoi(s.Parameters[connect.DecimalScaleParam]); err == nil {
			scale = int32(n)
		}
	}
	unscaled := new(big.Int).Mul(r.Num(), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
	unscaled.Quo(unscaled, r.Denom())
	if s.Name == connect.DecimalName {
		return connect.Decimal{Unscaled: unscaled, Scale: scale}, nil
	}
	st := connect.NewStruct(s)
	st.Values[0], st.Values[1] = scale, twosComplement(unscaled)
	return st, nil
}

// twosComplement is Java's BigInteger.toByteArray.
func twosComplement(n *big.Int) []byte {
	if n.Sign() >= 0 {
		b := n.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// -n = ^(n-1) over enough bytes
	m := new(big.Int).Sub(new(big.Int).Neg(n), big.NewInt(1))
	b := m.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	for i := range b {
		b[i] = ^b[i]
	}
	return b
}

// sourceSchema is Debezium's io.debezium.connector.postgresql.Source.
func sourceSchema() *connect.Schema {
	snap := &connect.Schema{Type: connect.String, Optional: true, Name: dbzEnum, Version: &one, Default: "false",
		Parameters: map[string]string{"allowed": "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"}}
	fields := []struct {
		name string
		s    *connect.Schema
	}{
		{"version", connect.SchemaString}, {"connector", connect.SchemaString}, {"name", connect.SchemaString},
		{"ts_ms", connect.SchemaInt64}, {"snapshot", snap}, {"db", connect.SchemaString},
		{"sequence", connect.OptionalString}, {"ts_us", connect.OptionalInt64}, {"ts_ns", connect.OptionalInt64},
		{"schema", connect.SchemaString}, {"table", connect.SchemaString},
		{"txId", connect.OptionalInt64}, {"lsn", connect.OptionalInt64}, {"xmin", connect.OptionalInt64},
		{"origin", connect.OptionalString}, {"origin_lsn", connect.OptionalInt64},
	}
	s := &connect.Schema{Type: connect.StructT, Name: dbzSourceName, Version: &one}
	for i, f := range fields {
		s.Fields = append(s.Fields, connect.Field{Name: f.name, Index: i, Schema: f.s})
	}
	return s
}

// transactionSchema is Debezium's event.block transaction metadata.
func transactionSchema() *connect.Schema {
	return versioned(&connect.Schema{Type: connect.StructT, Optional: true, Name: dbzTxBlock, Fields: []connect.Field{
		{Name: "id", Index: 0, Schema: connect.SchemaString},
		{Name: "total_order", Index: 1, Schema: connect.SchemaInt64},
		{Name: "data_collection_order", Index: 2, Schema: connect.SchemaInt64},
	}})
}

// tableSchemas are the key, value and envelope schemas of one table.
type tableSchemas struct {
	Key, Value, Envelope *connect.Schema
}

// buildSchemas makes Debezium's schemas for a table named prefix.schema.table.
func buildSchemas(prefix, schema, table string, cols []pgColumn, source *connect.Schema) tableSchemas {
	base := prefix + "." + schema + "." + table
	key := &connect.Schema{Type: connect.StructT, Name: base + ".Key"}
	val := &connect.Schema{Type: connect.StructT, Optional: true, Name: base + ".Value"}
	for _, c := range cols {
		val.Fields = append(val.Fields, connect.Field{Name: c.Name, Index: len(val.Fields), Schema: columnSchema(c, !c.NotNull && !c.Key)})
		if c.Key {
			key.Fields = append(key.Fields, connect.Field{Name: c.Name, Index: len(key.Fields), Schema: columnSchema(c, false)})
		}
	}
	if len(key.Fields) == 0 {
		key = nil
	}
	two := int32(2)
	env := &connect.Schema{Type: connect.StructT, Name: base + ".Envelope", Version: &two, Fields: []connect.Field{
		{Name: "before", Index: 0, Schema: val},
		{Name: "after", Index: 1, Schema: val},
		{Name: "source", Index: 2, Schema: source},
		{Name: "transaction", Index: 3, Schema: transactionSchema()},
		{Name: "op", Index: 4, Schema: connect.SchemaString},
		{Name: "ts_ms", Index: 5, Schema: connect.OptionalInt64},
		{Name: "ts_us", Index: 6, Schema: connect.OptionalInt64},
		{Name: "ts_ns", Index: 7, Schema: connect.OptionalInt64},
	}}
	return tableSchemas{Key: key, Value: val, Envelope: env}
}
