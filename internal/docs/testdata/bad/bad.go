// Helpers for things.
package bad

// Documented is fine.
func Documented() {}

func Bare() {}

type T struct{}

func (T) Method() {}

// Group has a doc.
const (
	A = 1 // a line comment counts
	B = 2
)

var V, w int
