package postgres

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
)

// connString turns a JDBC URL (jdbc:postgresql://host:port/db?user=…) or
// a libpq URL/keyword string into a pgx connection string, with user and
// password applied when given.
func connString(raw, user, password string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", fmt.Errorf("connection.url is empty")
	}
	raw = strings.TrimPrefix(raw, "jdbc:")
	if strings.HasPrefix(raw, "postgresql://") || strings.HasPrefix(raw, "postgres://") {
		u, err := url.Parse(raw)
		if err != nil {
			return "", fmt.Errorf("connection.url: %w", err)
		}
		q := libpqParams(u.Query())
		if user != "" {
			q.Del("user")
			u.User = url.UserPassword(user, password)
			if password == "" {
				u.User = url.User(user)
			}
		}
		if password != "" {
			q.Del("password")
			name := user
			if name == "" && u.User != nil {
				name = u.User.Username()
			}
			u.User = url.UserPassword(name, password)
		}
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	if !strings.Contains(raw, "=") {
		return "", fmt.Errorf("connection.url %q is neither a jdbc:postgresql:// URL nor a libpq connection string", raw)
	}
	s := raw
	if user != "" {
		s += " user=" + quoteKV(user)
	}
	if password != "" {
		s += " password=" + quoteKV(password)
	}
	return s, nil
}

// jdbcParams maps the PostgreSQL JDBC driver's URL parameters to libpq's;
// libpq's own pass as they are, and other JDBC-only ones are dropped
// (the server would refuse them as unknown settings).
var jdbcParams = map[string]string{
	"currentSchema": "search_path", "ApplicationName": "application_name",
	"connectTimeout": "connect_timeout", "loginTimeout": "connect_timeout",
	"sslrootcert": "sslrootcert", "sslcert": "sslcert", "sslkey": "sslkey", "sslmode": "sslmode",
}

var libpqKeys = map[string]bool{
	"user": true, "password": true, "sslmode": true, "sslrootcert": true, "sslcert": true, "sslkey": true,
	"sslpassword": true, "connect_timeout": true, "application_name": true, "search_path": true, "options": true,
	"target_session_attrs": true, "host": true, "port": true, "dbname": true, "TimeZone": true,
}

func libpqParams(in url.Values) url.Values {
	out := url.Values{}
	for k, vs := range in {
		if to, ok := jdbcParams[k]; ok {
			k = to
		} else if !libpqKeys[k] {
			continue
		}
		if k == "connect_timeout" && len(vs) > 0 && vs[0] == "0" {
			continue
		}
		out[k] = vs
	}
	return out
}

// debeziumConnString builds a libpq keyword string from Debezium's
// database.* settings.
func debeziumConnString(host, port, user, password, db string) string {
	parts := []string{"host=" + quoteKV(host), "port=" + quoteKV(port), "dbname=" + quoteKV(db), "user=" + quoteKV(user)}
	if password != "" {
		parts = append(parts, "password="+quoteKV(password))
	}
	return strings.Join(parts, " ")
}

func quoteKV(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `'`, `\'`)
	return "'" + s + "'"
}

// dial opens one connection.
func dial(ctx context.Context, cs string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(cs)
	if err != nil {
		return nil, fmt.Errorf("postgres: connection string: %w", err)
	}
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return c, nil
}

// quoteIdent quotes a (possibly schema-qualified) identifier: "a.b"
// becomes "a"."b".
func quoteIdent(name string) string {
	parts := strings.Split(name, ".")
	return pgx.Identifier(parts).Sanitize()
}

// splitTable returns schema and table of a name, with public as the
// default schema.
func splitTable(name string) (string, string) {
	if i := strings.IndexByte(name, '.'); i >= 0 {
		return name[:i], name[i+1:]
	}
	return "public", name
}
