package envfile_test

import (
	"fmt"

	"github.com/otpctl/otpctl/internal/envfile"
)

func ExampleParse() {
	vars, err := envfile.Parse(`# the database
export PGHOST=127.0.0.1
PGPASSWORD='s3cr$t # all of it'
GREETING="hello\nworld"
`)
	for _, v := range vars {
		fmt.Printf("%d %s=%q\n", v.Line, v.Key, v.Value)
	}
	fmt.Println(err)
	// Output:
	// 2 PGHOST="127.0.0.1"
	// 3 PGPASSWORD="s3cr$t # all of it"
	// 4 GREETING="hello\nworld"
	// <nil>
}
