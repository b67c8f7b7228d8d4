package promtest_test

import (
	"fmt"
	"strings"

	"github.com/otpctl/otpctl/internal/promtest"
)

// A scrape's text, parsed, and a series read by its labels.
func Example() {
	m, err := promtest.Parse(strings.NewReader(`# TYPE otpctl_child_up gauge
otpctl_child_up{path="shop/web"} 1
otpctl_child_up{path="shop/jobs/*"} 3
`))
	if err != nil {
		panic(err)
	}
	v, ok := m.Value("otpctl_child_up", "path", "shop/jobs/*")
	fmt.Println(v, ok)
	fmt.Println(m.Labels("otpctl_child_up", "path"))
	// Output:
	// 3 true
	// [shop/jobs/* shop/web]
}
