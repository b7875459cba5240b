package registry

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// apiError is an error the API answers with its HTTP status and Confluent's
// error_code.
type apiError struct {
	status  int
	code    int
	message string
}

func (e *apiError) Error() string { return e.message }

// Confluent's error codes (shared/reference A1).
const (
	codeSubjectNotFound       = 40401
	codeVersionNotFound       = 40402
	codeSchemaNotFound        = 40403
	codeSubjectSoftDeleted    = 40404
	codeSubjectNotSoftDeleted = 40405
	codeVersionSoftDeleted    = 40406
	codeVersionNotSoftDeleted = 40407
	codeSubjectConfigNotFound = 40408
	codeSubjectModeNotFound   = 40409
	codeIncompatible          = 409
	codeInvalidSchema         = 42201
	codeInvalidVersion        = 42202
	codeInvalidCompatibility  = 42203
	codeInvalidMode           = 42204
	codeOperationNotPermitted = 42205
	codeReferenceExists       = 42206
	codeIDMismatch            = 42207
	codeInvalidSubject        = 42208
	codeSchemaTooLarge        = 42209
	codeStoreError            = 50001
	codeTimeout               = 50002
	codeForwardingFailed      = 50003
	codeUnknownLeader         = 50004
	codeBadRequest            = 400
	codeNotFound              = 404
	codeMethodNotAllowed      = 405
	codeUnsupportedMediaType  = 415
	codeInternal              = 500
)

func apiErr(status, code int, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func errSubjectNotFound(s string) error {
	return apiErr(404, codeSubjectNotFound, "Subject '%s' not found.", s)
}

func errVersionNotFound(s string, v string) error {
	return apiErr(404, codeVersionNotFound, "Version %s not found for subject '%s'.", v, s)
}

func errSchemaNotFound(what string) error {
	return apiErr(404, codeSchemaNotFound, "Schema not found: %s", what)
}

func errInvalidSchema(format string, args ...any) error {
	return apiErr(422, codeInvalidSchema, "Invalid schema: "+format, args...)
}

func errNotPermitted(format string, args ...any) error {
	return apiErr(422, codeOperationNotPermitted, format, args...)
}

func errStore(format string, args ...any) error {
	return apiErr(500, codeStoreError, "Error in the backend data store: "+format, args...)
}

// asAPIError turns any error into what the API answers: an apiError as it
// is, anything else a 500 with error_code 500 (store errors are wrapped
// into apiErrors where they happen).
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var ie *incompatibleError
	if errors.As(err, &ie) {
		return &apiError{status: http.StatusConflict, code: codeIncompatible, message: ie.Error()}
	}
	return &apiError{status: http.StatusInternalServerError, code: codeInternal, message: err.Error()}
}

func errf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func itoa(i int) string { return strconv.Itoa(i) }
