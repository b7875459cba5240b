package config

import "testing"

func TestListeners(t *testing.T) {
	b := Broker{}.Defaults()
	for k, v := range map[string]string{
		"listeners":                      "EXTERNAL://0.0.0.0:9092,internal://127.0.0.1:9093,CONTROLLER://127.0.0.1:9094,SSL://127.0.0.1:0",
		"advertised.listeners":           "EXTERNAL://kafka.example.com:9092",
		"listener.security.protocol.map": "EXTERNAL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
		"inter.broker.listener.name":     "internal",
	} {
		if err := b.SetValue(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Resolve(); err != nil {
		t.Fatal(err)
	}
	want := []Listener{
		{Name: "EXTERNAL", Protocol: ProtocolSASLSSL, Addr: "0.0.0.0:9092", Advertised: "kafka.example.com:9092"},
		{Name: "INTERNAL", Protocol: ProtocolPlaintext, Addr: "127.0.0.1:9093"},
		{Name: "SSL", Protocol: ProtocolSSL, Addr: "127.0.0.1:0"},
	}
	if len(b.Listeners) != len(want) {
		t.Fatalf("listeners %+v", b.Listeners)
	}
	for i, l := range want {
		if b.Listeners[i] != l {
			t.Fatalf("listener %d: %+v, want %+v", i, b.Listeners[i], l)
		}
	}
	if b.Listen != "0.0.0.0:9092" || b.Advertised != "kafka.example.com:9092" || b.InterBrokerListener != "INTERNAL" {
		t.Fatalf("listen %s advertised %s inter-broker %s", b.Listen, b.Advertised, b.InterBrokerListener)
	}
	if !b.Listeners[0].TLS() || !b.Listeners[0].SASL() || b.Listeners[1].TLS() || !b.Listeners[2].TLS() || b.Listeners[2].SASL() {
		t.Fatal("TLS/SASL flags")
	}
	if err := b.SetPrimaryListen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := b.Resolve(); err != nil {
		t.Fatal(err)
	}
	if b.Listeners[0].Name != "EXTERNAL" || b.Listeners[0].Addr != "127.0.0.1:0" || len(b.Listeners) != 3 {
		t.Fatalf("after SetPrimaryListen: %+v", b.Listeners)
	}
}
