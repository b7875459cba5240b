package connect

import (
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
)

// loggers is what /admin/loggers shows and changes: the root logger is
// the worker's slog level; other names are remembered with their level
// (Go has no logger hierarchy to apply them to).
type loggers struct {
	root *slog.LevelVar

	mu     sync.Mutex
	levels map[string]loggerLevel
}

type loggerLevel struct {
	Level        string `json:"level"`
	LastModified *int64 `json:"last_modified"`
}

func newLoggers(root *slog.LevelVar) *loggers {
	return &loggers{root: root, levels: map[string]loggerLevel{}}
}

// javaLevel maps slog levels to log4j's names.
func javaLevel(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "DEBUG"
	case l < slog.LevelWarn:
		return "INFO"
	case l < slog.LevelError:
		return "WARN"
	}
	return "ERROR"
}

var validLevels = map[string]slog.Level{"TRACE": slog.LevelDebug - 4, "DEBUG": slog.LevelDebug, "INFO": slog.LevelInfo,
	"WARN": slog.LevelWarn, "ERROR": slog.LevelError, "FATAL": slog.LevelError + 4, "OFF": slog.LevelError + 8}

func (l *loggers) all() map[string]loggerLevel {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]loggerLevel{}
	for k, v := range l.levels {
		out[k] = v
	}
	if _, ok := out["root"]; !ok {
		lvl := "INFO"
		if l.root != nil {
			lvl = javaLevel(l.root.Level())
		}
		out["root"] = loggerLevel{Level: lvl}
	}
	return out
}

func (l *loggers) get(name string) (loggerLevel, bool) {
	all := l.all()
	if v, ok := all[name]; ok {
		return v, true
	}
	return loggerLevel{}, false
}

// set sets name's level (and its descendants') and returns the loggers
// changed.
func (l *loggers) set(name, level string) []string {
	level = strings.ToUpper(level)
	now := time.Now().UnixMilli()
	l.mu.Lock()
	defer l.mu.Unlock()
	changed := []string{name}
	l.levels[name] = loggerLevel{Level: level, LastModified: &now}
	for k := range l.levels {
		if k != name && (name == "root" || strings.HasPrefix(k, name+".")) {
			l.levels[k] = loggerLevel{Level: level, LastModified: &now}
			changed = append(changed, k)
		}
	}
	if name == "root" && l.root != nil {
		l.root.Set(validLevels[level])
	}
	sort.Strings(changed)
	return changed
}
