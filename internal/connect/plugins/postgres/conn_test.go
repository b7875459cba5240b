package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestConnString(t *testing.T) {
	for _, c := range []struct {
		url, user, password  string
		host                 string
		port                 uint16
		db, wantUser, wantPw string
		params               map[string]string
	}{
		{"jdbc:postgresql://db.example:6543/shop?currentSchema=sales&ApplicationName=x&prepareThreshold=0&sslmode=disable", "u", "p w",
			"db.example", 6543, "shop", "u", "p w", map[string]string{"search_path": "sales", "application_name": "x"}},
		{"postgres://a:b@h/d?sslmode=disable", "", "", "h", 5432, "d", "a", "b", nil},
		{"postgresql://h:1/d?user=q&password=r&sslmode=disable", "", "", "h", 1, "d", "q", "r", nil},
		{"host=h port=7 dbname=d sslmode=disable", "it's", "", "h", 7, "d", "it's", "", nil},
	} {
		cs, err := connString(c.url, c.user, c.password)
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		cfg, err := pgx.ParseConfig(cs)
		if err != nil {
			t.Fatalf("%s → %s: %v", c.url, cs, err)
		}
		if cfg.Host != c.host || cfg.Port != c.port || cfg.Database != c.db || cfg.User != c.wantUser || cfg.Password != c.wantPw {
			t.Errorf("%s → host %s port %d db %s user %s password %q", c.url, cfg.Host, cfg.Port, cfg.Database, cfg.User, cfg.Password)
		}
		for k, v := range c.params {
			if cfg.RuntimeParams[k] != v {
				t.Errorf("%s: runtime param %s = %q, want %q", c.url, k, cfg.RuntimeParams[k], v)
			}
		}
		if _, ok := cfg.RuntimeParams["prepareThreshold"]; ok {
			t.Errorf("%s: JDBC-only prepareThreshold passed to the server", c.url)
		}
	}
	if _, err := connString("jdbc:mysql://h/d", "", ""); err == nil {
		t.Error("a MySQL URL was accepted")
	}
}
