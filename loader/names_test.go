package loader

import (
	"errors"
	"strings"
	"testing"

	"github.com/otpctl/otpctl/internal/names/namestest"
	"github.com/otpctl/otpctl/schema"
	"github.com/otpctl/otpctl/workers"
)

// A dynamic child's name (otpctl start --name) is refused where, and only
// where, the tree schema refuses a child's name.
func TestStartNameRefusedAsTheSchemaSays(t *testing.T) {
	r, _ := start(t, shop(), nil)
	refused := 0
	for _, s := range namestest.Edges {
		if s == "" {
			continue // no name: the supervisor picks one
		}
		_, _, err := r.Start("shop/jobs", s, nil)
		// A valid name may still find jobs full (max_children 2): that is
		// not a refusal of the name.
		if bad := errors.Is(err, ErrInvalid); bad == schema.ValidName(s) {
			t.Errorf("Start(shop/jobs, %.40q): %v; schema.ValidName says %v", s, err, schema.ValidName(s))
		} else if bad {
			refused++
			if want := "a child's name matches " + schema.NamePattern(); !strings.Contains(err.Error(), want) {
				t.Errorf("Start(shop/jobs, %.40q): %v; want it to say %q", s, err, want)
			}
		}
	}
	if refused < 5 {
		t.Errorf("only %d names refused: the test proves little", refused)
	}
}

// A kind is refused at Register where, and only where, the tree schema
// refuses a kind's name.
func TestRegisterRefusesAsTheSchemaSays(t *testing.T) {
	for _, s := range namestest.Edges {
		var msg any
		func() {
			defer func() { msg = recover() }()
			workers.NewRegistry().Register(workers.Kind{Name: s, Start: startEcho(0)})
		}()
		if (msg != nil) == schema.ValidKindName(s) {
			t.Errorf("Register(%.40q) panicked with %v; schema.ValidKindName says %v", s, msg, schema.ValidKindName(s))
		}
	}
}
