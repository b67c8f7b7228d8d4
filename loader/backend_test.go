package loader

import (
	"errors"
	"fmt"
	"testing"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers"
)

func TestAPIErrorCodes(t *testing.T) {
	cases := []struct {
		err  error
		code string
	}{
		{&PathError{Op: "kill", Path: "shop/x", Err: ErrNotFound}, control.CodeNotFound},
		{&PathError{Op: "start", Path: "shop/j", Err: fmt.Errorf("args: %w", ErrInvalid)}, control.CodeBadRequest},
		{&PathError{Op: "call", Path: "shop/c", Err: runtime.ErrTimeout}, control.CodeTimeout},
		{&PathError{Op: "call", Path: "shop/c", Err: workers.ErrNotCallable}, control.CodeRefused},
		{&PathError{Op: "start", Path: "shop/c", Err: runtime.ErrRunning}, control.CodeRefused},
		{ErrStopped, control.CodeRefused},
	}
	for _, c := range cases {
		var ce *control.Error
		if err := apiError(c.err); !errors.As(err, &ce) || ce.Code != c.code || ce.Message != c.err.Error() {
			t.Errorf("apiError(%v) = %#v, want code %s", c.err, err, c.code)
		}
	}
	if apiError(nil) != nil {
		t.Error("apiError(nil) is not nil")
	}
}
