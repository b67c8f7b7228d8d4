// Package good is documented.
package good

// Answer is documented.
func Answer() int { return 42 }
