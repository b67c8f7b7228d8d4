package otptest

import (
	"errors"
	"strings"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/loader"
	"github.com/otpctl/otpctl/spec"
)

// Reload takes the running tree to the tree written in yaml, as a hot
// reload of its file does (loader.Running.Reload): only the difference is
// applied, each stop and start with cause=reload and none counted against
// an intensity, unchanged nodes keep running with their pids and state, and
// one reload event lists the added, removed, changed and updated paths.
// yaml is read as the tree's own file (for StartYAML, InlineFile), so
// includes are found where the first version found them. Reload returns
// the result once the plan is applied.
//
// The test fails if the YAML is not a valid tree (with every FILE:LINE:COL
// problem), if the reload is refused, or if a node it starts fails to start
// (the start_failed events say why); TryReload reports those instead.
func (tr *Tree) Reload(yaml string) loader.ReloadResult {
	tr.tb.Helper()
	res, err := tr.TryReload(yaml)
	var ds spec.Diagnostics
	switch {
	case errors.As(err, &ds):
		tr.tb.Fatalf("otptest: reload: the YAML is not a valid tree:\n%s", indent(err.Error()))
	case err != nil:
		tr.tb.Fatalf("otptest: %v", err)
	case len(res.Failed) > 0:
		tr.tb.Fatalf("otptest: reload: %s failed to start\n%s", strings.Join(res.Failed, ", "), tr.describe(0))
	}
	return res
}

// TryReload is Reload that returns what went wrong instead of failing the
// test, for tests of a reload that is refused or fails in part (Failed).
// A YAML that is not a valid tree changes nothing: as for a tree file that
// does not validate when `otpctl run` reloads it, a reload_failed event
// lists every problem, and the error is the spec.Diagnostics.
func (tr *Tree) TryReload(yaml string) (loader.ReloadResult, error) {
	tr.tb.Helper()
	t, err := spec.Parse(tr.file, []byte(yaml), tr.reg)
	if err != nil {
		var ds spec.Diagnostics
		problems := []string{err.Error()}
		if errors.As(err, &ds) {
			problems = make([]string, len(ds))
			for i, d := range ds {
				problems[i] = d.Error()
			}
		}
		tr.r.Emit(live.Event{Type: loader.EventReloadFailed, Path: tr.Path(), Errors: problems})
		return loader.ReloadResult{}, err
	}
	return tr.r.Reload(t)
}
