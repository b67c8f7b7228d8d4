package names_test

import (
	"fmt"

	"github.com/otpctl/otpctl/internal/names"
)

func Example() {
	child := names.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	for _, s := range []string{"web-1", "Web", "a/b", ""} {
		fmt.Printf("%q child name %v, kind name %v\n", s, child.Match(s), names.Kind.Match(s))
	}
	// Output:
	// "web-1" child name true, kind name true
	// "Web" child name false, kind name false
	// "a/b" child name false, kind name false
	// "" child name false, kind name false
}
