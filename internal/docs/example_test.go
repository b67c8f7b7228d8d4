package docs_test

import (
	"fmt"

	"github.com/otpctl/otpctl/internal/docs"
)

// A documented package has nothing to report; one that is not lists each
// name it leaves bare.
func Example() {
	problems, _ := docs.Check("testdata/good")
	fmt.Println(len(problems), "problems in testdata/good")
	problems, _ = docs.Check("testdata/bad")
	fmt.Println(problems[0])
	// Output:
	// 0 problems in testdata/good
	// testdata/bad/bad.go:11:1: Method has no doc comment
}
