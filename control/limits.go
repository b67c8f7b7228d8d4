package control

import (
	"reflect"
	"strings"
)

// Limits of the API. Each bounds what one client can make the server keep:
// a reason is kept in every event it causes, and the log keeps thousands.
const (
	// MaxFieldBytes bounds every free-text field of a request: a path, a
	// name, a reason, a state, a timeout (in a JSON body or a query).
	// The JSON values of a request (a call's request, a start's args) are
	// bounded by MaxBodyBytes only.
	MaxFieldBytes = 1 << 10
	// MaxStreams bounds the streams open at a time (GET /v1/events,
	// which `otpctl events`, `tree --watch` and `shutdown` open, and GET
	// /v1/logs, which `otpctl logs` opens); past it
	// the server answers 503 busy.
	MaxStreams = 128
	// MaxWaits bounds the pending GET /v1/wait requests; past it the
	// server answers 503 busy.
	MaxWaits = 256
	// MaxNotReady bounds the nodes a 503 of GET /readyz lists; the others
	// are counted in its "more".
	MaxNotReady = 100
)

// fieldError is the bad_request error for a field over MaxFieldBytes, or
// nil when value is within it.
func fieldError(name, value string) *Error {
	if len(value) <= MaxFieldBytes {
		return nil
	}
	return Errorf(CodeBadRequest, "%q is %d bytes, over the limit of %d bytes (1 KiB) for a field", name, len(value), MaxFieldBytes)
}

// checkFields returns the bad_request error for the first string field of
// req, a request struct (or a pointer to one), that is over MaxFieldBytes,
// named by its JSON key; nil when every one is within it. Fields of other
// types (raw JSON) are left to MaxBodyBytes.
func checkFields(req any) *Error {
	v := reflect.ValueOf(req)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type.Kind() != reflect.String {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		if e := fieldError(name, v.Field(i).String()); e != nil {
			return e
		}
	}
	return nil
}
