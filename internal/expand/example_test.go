package expand_test

import (
	"fmt"

	"github.com/otpctl/otpctl/internal/expand"
)

func Example() {
	env := map[string]string{"PORT": "8080"}
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	for _, s := range []string{"--port=${PORT}", "--host=${HOST:-127.0.0.1}", "price: $$5", "sh: $HOME", "${HOST}"} {
		out, err := expand.String(s, lookup)
		fmt.Printf("%q %v\n", out, err)
	}
	// Output:
	// "--port=8080" <nil>
	// "--host=127.0.0.1" <nil>
	// "price: $5" <nil>
	// "sh: $HOME" <nil>
	// "" undefined variable HOST (set it, give a default as ${HOST:-value}, or write $${HOST} for a literal) in "${HOST}"
}
