package sasl

// scramLoginModule is the login module of a SCRAM client's JAAS entry.
const scramLoginModule = "org.apache.kafka.common.security.scram.ScramLoginModule"

// ParseLoginJAAS parses a client's JAAS entry (the value of a client's
// sasl.jaas.config) for SCRAM or PLAIN and returns its username and
// password options; the syntax is ParsePlainJAAS's.
func ParseLoginJAAS(text string) (user, pass string, err error) {
	if len(text) > maxJAASBytes {
		return "", "", configErrorf("JAAS config of %d bytes exceeds %d", len(text), maxJAASBytes)
	}
	opts, err := parseJAAS(text, scramLoginModule)
	if err != nil {
		var perr error
		if opts, perr = parseJAAS(text, plainLoginModule); perr != nil {
			return "", "", err
		}
	}
	for _, kv := range opts {
		switch kv[0] {
		case "username":
			user = kv[1]
		case "password":
			pass = kv[1]
		}
	}
	if user == "" {
		return "", "", configErrorf("JAAS config names no username")
	}
	return user, pass, nil
}
