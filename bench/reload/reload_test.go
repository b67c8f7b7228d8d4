package reload_test

import (
	"math"
	"testing"
	"time"

	"github.com/otpctl/otpctl/bench/reload"
	"github.com/otpctl/otpctl/bench/workload"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// W7 runs to the end on a small tree, passes its own check (exactly the
// changed leaf restarted) and reports each figure as a positive number.
func TestW7Reload(t *testing.T) {
	r, err := reload.W7Reload(workload.Sizes{Sups: 4, Workers: 25, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"write_to_reload_s", "reload_file_s", "validate_s", "tree_json_s", "tree_json_bytes"} {
		if v, ok := r[m]; !ok || math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
			t.Errorf("%s = %v (present %v)", m, v, ok)
		}
	}
}
