package bad

// An example that is not run: no output comment.
func ExampleDocumented() {
	Documented()
}
