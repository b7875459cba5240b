package restproxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// apiError is an error the API answers with its HTTP status and
// Confluent's error_code.
type apiError struct {
	status  int
	code    int
	message string
	cause   error // the Kafka error answered, if any (for retryTransient)
}

func (e *apiError) Error() string { return e.message }

func (e *apiError) Unwrap() error { return e.cause }

func apiErr(status, code int, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// asAPIError turns any error into what the API answers.
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return &apiError{status: http.StatusInternalServerError, code: 50001, message: err.Error()}
}

// writeError answers e as {"error_code","message"} in contentType.
func writeError(w http.ResponseWriter, contentType string, e *apiError) {
	b, _ := json.Marshal(map[string]any{"error_code": e.code, "message": e.message})
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(e.status)
	w.Write(b)
}

// writeJSON answers v with status in contentType.
func writeJSON(w http.ResponseWriter, contentType string, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, contentType, asAPIError(err))
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(b)
}
