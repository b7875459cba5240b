package tlsconf

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ava is one attribute for rdnDER: an OID's DER content, a tag, the
// value's bytes.
type ava struct {
	oid   []byte
	tag   cbasn1.Tag
	value string
}

var (
	oidCN     = []byte{0x55, 4, 3}
	oidO      = []byte{0x55, 4, 10}
	oidSerial = []byte{0x55, 4, 5}
	oidEmail  = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01}
	oidDC     = []byte{0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19}
	oidUID    = []byte{0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01}
)

// rdnDER encodes an RDNSequence, least specific RDN first (as in DER).
func rdnDER(rdns ...[]ava) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, rdn := range rdns {
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				for _, a := range rdn {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(a.oid) })
						b.AddASN1(a.tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(a.value)) })
					})
				}
			})
		}
	})
	return b.BytesOrPanic()
}

func cn(v string) []ava { return []ava{{oidCN, cbasn1.UTF8String, v}} }

// Expected values are Java 17's X500Principal.getName() of the same DER.
func TestFormatDN(t *testing.T) {
	name := pkix.Name{Country: []string{"US"}, Organization: []string{"Example"}, OrganizationalUnit: []string{"eng"},
		Locality: []string{"Fulton"}, Province: []string{"MD"}, StreetAddress: []string{"1 Main St"}, CommonName: "alice"}
	std, err := asn1.Marshal(name.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		der  []byte
		want string
	}{
		{std, "CN=alice,OU=eng,O=Example,STREET=1 Main St,L=Fulton,ST=MD,C=US"},
		{rdnDER(), ""},
		{rdnDER(cn(`a,b=c+d<e>f#g;h"i\j`)), `CN=a\,b\=c\+d\<e\>f\#g\;h\"i\\j`},
		{rdnDER(cn(" lead and trail  ")), `CN=\ lead and trail\ \ `},
		{rdnDER(cn("\r x \r")), "CN=\\\r\\ x\\ \\\r"},
		{rdnDER(cn("   ")), `CN=\ \ \ `},
		{rdnDER(cn("#x")), `CN=\#x`},
		{rdnDER(cn("nul\x00byte")), `CN=nul\00byte`},
		{rdnDER(cn("日本 é")), "CN=日本 é"},
		{rdnDER([]ava{{oidCN, cbasn1.PrintableString, "bob"}}, []ava{{oidEmail, cbasn1.IA5String, "b@x"}}),
			"1.2.840.113549.1.9.1=#1603624078,CN=bob"},
		{rdnDER([]ava{{oidDC, cbasn1.IA5String, "com"}}, []ava{{oidDC, cbasn1.IA5String, "example"}}, []ava{{oidCN, cbasn1.UTF8String, "a"}, {oidUID, cbasn1.UTF8String, "b"}}),
			"CN=a+UID=b,DC=example,DC=com"},
		{rdnDER([]ava{{oidSerial, cbasn1.PrintableString, "123"}}, cn("x")), "CN=x,2.5.4.5=#1303313233"},
		{rdnDER([]ava{{oidO, 30, "\x00A\x00l"}}), `O=\00A\00l`},             // BMPString read as UTF-8
		{rdnDER([]ava{{oidO, cbasn1.T61String, "caf\xe9"}}), "O=caf\uFFFD"}, // T61 Latin-1 read as UTF-8
		{rdnDER([]ava{{oidO, 28, "x"}}), "O=#1c0178"},                       // UniversalString: hex
		{rdnDER([]ava{{oidO, cbasn1.INTEGER, "\x05"}}), "O=#020105"},
		{rdnDER([]ava{{[]byte{0x88, 0x37, 0x03}, cbasn1.UTF8String, "v"}}), "2.999.3=#0c0176"},
	} {
		got, err := FormatDN(c.der)
		if err != nil || got != c.want {
			t.Errorf("%x: %q, %v; want %q", c.der, got, err, c.want)
		}
	}
}

func TestFormatDNMalformed(t *testing.T) {
	for _, der := range [][]byte{
		nil,
		{0x30, 0x01},
		{0x30, 0x00, 0x00},
		{0x31, 0x00},
		{0x30, 0x02, 0x30, 0x00},
		rdnDER([]ava{{[]byte{0x80, 0x01}, cbasn1.UTF8String, "v"}}), // non-minimal OID
		rdnDER([]ava{{[]byte{0x81}, cbasn1.UTF8String, "v"}}),       // truncated OID
		rdnDER([]ava{{nil, cbasn1.UTF8String, "v"}}),
	} {
		if got, err := FormatDN(der); !errors.Is(err, ErrBadName) {
			t.Errorf("%x: %q, %v", der, got, err)
		}
	}
}

// Go's pkix.Name.String differs from Java's form; FormatDN follows Java.
func TestFormatDNNotGo(t *testing.T) {
	name := pkix.Name{CommonName: "a=b#c"}
	der, err := asn1.Marshal(name.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	got, err := FormatDN(der)
	if err != nil || got != `CN=a\=b\#c` || got == name.String() {
		t.Errorf("%q, %v (Go writes %q)", got, err, name.String())
	}
}
