package datagen

import (
	"math/rand/v2"
	"strconv"

	"github.com/samsa-streaming/samsa/connect"
)

// quickstart is one kind of generated data.
type quickstart struct {
	schema *connect.Schema
	key    string // the natural key field
	// fill sets the struct's fields for iteration n from rng.
	fill func(st *connect.Struct, rng *rand.Rand, n int64)
}

// Time ranges of the generated timestamps, as the datagen quickstarts'
// (February 2017 to February 2018, in epoch milliseconds).
const (
	timeFrom = 1487715775521
	timeTo   = 1519273364600
)

func field(i int, name string, s *connect.Schema) connect.Field {
	return connect.Field{Name: name, Index: i, Schema: s}
}

func pick(rng *rand.Rand, prefix string, n int) string {
	return prefix + strconv.Itoa(1+rng.IntN(n))
}

// quickstarts returns the known quickstarts by name.
func quickstarts() map[string]quickstart {
	users := &connect.Schema{Type: connect.StructT, Name: "ksql.users", Fields: []connect.Field{
		field(0, "registertime", connect.SchemaInt64), field(1, "userid", connect.SchemaString),
		field(2, "regionid", connect.SchemaString), field(3, "gender", connect.SchemaString)}}
	address := &connect.Schema{Type: connect.StructT, Name: "ksql.address", Fields: []connect.Field{
		field(0, "city", connect.SchemaString), field(1, "state", connect.SchemaString),
		field(2, "zipcode", connect.SchemaInt64)}}
	orders := &connect.Schema{Type: connect.StructT, Name: "ksql.orders", Fields: []connect.Field{
		field(0, "ordertime", connect.SchemaInt64), field(1, "orderid", connect.SchemaInt32),
		field(2, "itemid", connect.SchemaString), field(3, "orderunits", connect.SchemaFloat64),
		field(4, "address", address)}}
	pageviews := &connect.Schema{Type: connect.StructT, Name: "ksql.pageviews", Fields: []connect.Field{
		field(0, "viewtime", connect.SchemaInt64), field(1, "userid", connect.SchemaString),
		field(2, "pageid", connect.SchemaString)}}
	genders := []string{"MALE", "FEMALE", "OTHER"}
	return map[string]quickstart{
		"users": {schema: users, key: "userid", fill: func(st *connect.Struct, rng *rand.Rand, _ int64) {
			st.Values[0] = timeFrom + rng.Int64N(timeTo-timeFrom)
			st.Values[1] = pick(rng, "User_", 9)
			st.Values[2] = pick(rng, "Region_", 9)
			st.Values[3] = genders[rng.IntN(len(genders))]
		}},
		"orders": {schema: orders, key: "orderid", fill: func(st *connect.Struct, rng *rand.Rand, n int64) {
			st.Values[0] = timeFrom + rng.Int64N(timeTo-timeFrom)
			st.Values[1] = int32(n)
			st.Values[2] = pick(rng, "Item_", 999)
			st.Values[3] = float64(rng.IntN(1000)) / 100
			a := connect.NewStruct(address)
			a.Values[0] = pick(rng, "City_", 99)
			a.Values[1] = pick(rng, "State_", 99)
			a.Values[2] = int64(10000 + rng.IntN(90000))
			st.Values[4] = a
		}},
		"pageviews": {schema: pageviews, key: "viewtime", fill: func(st *connect.Struct, rng *rand.Rand, n int64) {
			st.Values[0] = 1 + 10*n
			st.Values[1] = pick(rng, "User_", 9)
			st.Values[2] = pick(rng, "Page_", 99)
		}},
	}
}
