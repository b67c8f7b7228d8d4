package schema_test

import (
	"fmt"

	"github.com/otpctl/otpctl/schema"
)

func ExampleValidateTree() {
	doc, _ := schema.Decode([]byte(`{
		"version": 1,
		"supervisor": {"strategy": "one_for_any", "stratgy": "one_for_all"}
	}`))
	for _, v := range schema.ValidateTree(doc) {
		fmt.Println(v)
	}
	// Output:
	// /supervisor/strategy: must be one of one_for_one, one_for_all, rest_for_one; got "one_for_any"
	// /supervisor/stratgy: unknown key "stratgy" (did you mean "strategy"?)
}

func ExampleArgs() {
	counter, err := schema.Args(`{
		"type": "object",
		"properties": {"initial": {"type": "integer"}},
		"additionalProperties": false
	}`)
	if err != nil {
		panic(err)
	}
	args, _ := schema.Decode([]byte(`{"initial": "ten"}`))
	for _, v := range counter.Validate(args) {
		fmt.Println(v)
	}
	// Output:
	// /initial: must be an integer; got "ten"
}

func ExampleValidName() {
	for _, s := range []string{"web-1", "pay.v2", "Web", "a/b", ".."} {
		fmt.Printf("%q name %v, kind name %v\n", s, schema.ValidName(s), schema.ValidKindName(s))
	}
	// Output:
	// "web-1" name true, kind name true
	// "pay.v2" name true, kind name false
	// "Web" name false, kind name false
	// "a/b" name false, kind name false
	// ".." name false, kind name false
}
