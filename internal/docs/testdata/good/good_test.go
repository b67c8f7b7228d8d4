package good

import "fmt"

func ExampleAnswer() {
	fmt.Println(Answer())
	// Output: 42
}
