package namestest_test

import (
	"fmt"

	"github.com/otpctl/otpctl/internal/names"
	"github.com/otpctl/otpctl/internal/names/namestest"
)

func Example() {
	refused := 0
	for _, s := range namestest.Edges {
		if !names.Kind.Match(s) {
			refused++
		}
	}
	fmt.Println(refused, "of", len(namestest.Edges), "are not kind names")
	// Output: 27 of 33 are not kind names
}
