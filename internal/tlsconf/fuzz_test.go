package tlsconf

import (
	"errors"
	"testing"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

func FuzzPrincipalMappingRules(f *testing.F) {
	for _, seed := range []string{
		"DEFAULT",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, DEFAULT",
		`RULE:,RULE:,/,RULE:,\//U,RULE:,/RULE:,/,RULE:,RULE:,/L,RULE:,/L,RULE:, DEFAULT, /DEFAULT/,DEFAULT`,
		`RULE:^CN=((\\, *|\w)+)(,.*|$)/$1/,DEFAULT`,
		"RULE:.*/x/",
		"RULE:(?P<n>a*)b?/${n}$0\\$/U",
		",,  ,\n",
	} {
		f.Add(seed, "CN=Duke,OU=ServiceUsers,O=Org,C=US")
	}
	f.Fuzz(func(t *testing.T, rules, dn string) {
		m, err := ParsePrincipalMappingRules(rules)
		if err != nil {
			if !errors.Is(err, ErrInvalidRule) {
				t.Fatalf("%q: %v is not ErrInvalidRule", rules, err)
			}
			return
		}
		_ = m.String()
		name, err := m.Name(dn)
		if err != nil && !errors.Is(err, ErrNoMatchingRule) {
			t.Fatalf("%q on %q: %v", rules, dn, err)
		}
		if err == nil && len(m.rules) > 0 && m.rules[0].re == nil && name != dn {
			t.Fatalf("DEFAULT first gave %q for %q", name, dn)
		}
	})
}

// rdnFromBytes builds an RDNSequence from fuzz input: each step takes its
// choices (OID, tag, value bytes, a new RDN or another AVA) from data.
func rdnFromBytes(data []byte) []byte {
	oids := [][]byte{oidCN, oidO, oidSerial, oidEmail, oidDC, oidUID, {0x55, 4, 6}, {0x55, 4, 8}, {0x88, 0x37, 0x03}, {0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}}
	tags := []cbasn1.Tag{cbasn1.UTF8String, cbasn1.PrintableString, cbasn1.IA5String, cbasn1.T61String, 30, cbasn1.GeneralString, 28, cbasn1.INTEGER, cbasn1.OCTET_STRING, 0x2c}
	take := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for len(data) > 0 {
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				for more := true; more; more = take()&1 == 1 && len(data) > 0 {
					oid, tag, n := oids[int(take())%len(oids)], tags[int(take())%len(tags)], int(take()%16)
					value := data[:min(n, len(data))]
					data = data[len(value):]
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(oid) })
						b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes(value) })
					})
				}
			})
		}
	})
	return b.BytesOrPanic()
}

func FuzzFormatDN(f *testing.F) {
	f.Add(rdnDER(cn(`a,b=c+d<e>f#g;h"i\j`), []ava{{oidEmail, cbasn1.IA5String, "b@x"}}))
	f.Add(rdnDER([]ava{{oidO, 30, "\x00A\x00l"}, {oidDC, cbasn1.T61String, "\xe9\xed\xa0\x80\xf0\x9f"}}))
	f.Add([]byte{0, 1, 12, 5, 'a', ' ', '#', '\r', 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, der := range [][]byte{data, rdnFromBytes(data)} {
			s, err := FormatDN(der)
			if err != nil {
				if !errors.Is(err, ErrBadName) {
					t.Fatalf("%x: %v is not ErrBadName", der, err)
				}
				continue
			}
			if !utf8.ValidString(s) {
				t.Fatalf("%x: %q is not UTF-8", der, s)
			}
		}
	})
}

func FuzzParsePEM(f *testing.F) {
	f.Add("-----BEGIN CERTIFICATE----- AAAA -----END CERTIFICATE-----")
	f.Add("x-----BEGIN PRIVATE KEY-----\nQUJD\n-----END PRIVATE KEY-----\n-----BEGIN ")
	f.Fuzz(func(t *testing.T, text string) {
		blocks, err := parsePEM(text)
		if err == nil {
			for _, b := range blocks {
				if isKeyLabel(b.label) {
					_, _ = parseKey(b, "")
				}
			}
		}
	})
}
