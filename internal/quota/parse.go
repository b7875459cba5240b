package quota

import (
	"math"
	"strconv"
	"strings"
)

// ParseEntity reads an entity in Entity.String's form: users/<user>,
// users/<user>/clients/<client-id>, clients/<client-id> or ips/<ip>,
// each name either <default> or a %-escaped name. The entity is
// validated as AlterClientQuotas validates it.
func ParseEntity(s string) (Entity, error) {
	parts := strings.Split(s, "/")
	if len(parts)%2 != 0 || len(parts) > 4 {
		return Entity{}, invalid("entity " + strconv.Quote(s) + " is not users/<user>[/clients/<client-id>], clients/<client-id> or ips/<ip>")
	}
	var e Entity
	prev := ""
	for i := 0; i < len(parts); i += 2 {
		typ := pathTypes(parts[i])
		if typ == "" || (i > 0 && !(prev == TypeUser && typ == TypeClientID)) {
			return Entity{}, invalid("entity " + strconv.Quote(s) + " is not users/<user>[/clients/<client-id>], clients/<client-id> or ips/<ip>")
		}
		prev = typ
		var name *string
		if parts[i+1] != DefaultName {
			n, ok := unescapeName(parts[i+1])
			if !ok {
				return Entity{}, invalid("bad %-escape in entity name " + strconv.Quote(parts[i+1]))
			}
			name = &n
		}
		if err := e.set(typ, name); err != nil {
			return Entity{}, err
		}
	}
	if err := e.validate(); err != nil {
		return Entity{}, err
	}
	return e, nil
}

// ParseQuotas reads quota values as kafka-configs --add-config takes
// them: key=value pairs separated by commas, such as
// "producer_byte_rate=1024,consumer_byte_rate=2048". Keys must be quota
// keys, each once, and values finite numbers; whether a key and value
// suit an entity is checked when they are applied (NewStore, Alter).
func ParseQuotas(s string) (map[string]float64, error) {
	out := map[string]float64{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, invalid("quota " + strconv.Quote(pair) + " is not key=value")
		}
		if keyIndex(k) < 0 {
			return nil, invalid("Invalid configuration key " + k)
		}
		if _, dup := out[k]; dup {
			return nil, invalid("Duplicate quota key " + k)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, invalid("quota " + k + " value " + strconv.Quote(v) + " is not a finite number")
		}
		out[k] = f
	}
	return out, nil
}

// pathTypes is the entity type of a path segment ("" if none).
func pathTypes(seg string) string {
	switch seg {
	case "users":
		return TypeUser
	case "clients":
		return TypeClientID
	case "ips":
		return TypeIP
	}
	return ""
}
