package cli

import (
	"slices"
	"testing"
)

// Every command shown has its place in `otpctl --help`: one left out of
// commandOrder would be listed after help, out of its group.
func TestEveryCommandIsOrdered(t *testing.T) {
	for _, c := range commands {
		if !c.Hidden && !slices.Contains(commandOrder, c.Name) {
			t.Errorf("command %q is not in commandOrder", c.Name)
		}
	}
}
