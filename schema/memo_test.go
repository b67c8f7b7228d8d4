package schema

import (
	"strconv"
	"testing"
)

// TestValidateCachedIsValidate: ValidateCached says what Validate says of
// each document, the first time and when it remembers it, across
// generations of its memo.
func TestValidateCachedIsValidate(t *testing.T) {
	defer func(n int) { memoGeneration = n }(memoGeneration)
	memoGeneration = 100
	s, err := Compile("urn:test", `{"type":"object","properties":{"n":{"type":"integer","maximum":5},"tag":{"type":"string"}},"additionalProperties":false}`)
	if err != nil {
		t.Fatal(err)
	}
	docs := []string{`{}`, `{"n":3}`, `{"n":7}`, `{"n":"x","tag":1}`, `{"nn":1}`, `{"n":3,"tag":"a"}`}
	for round := range 2 {
		for _, d := range docs {
			doc := decode(t, d)
			same(t, d+" round "+strconv.Itoa(round), strs(s.ValidateCached(doc, d)), strs(s.Validate(doc)))
		}
	}
	// A full generation later, and while it is the old one, a document is
	// still worded as Validate words it.
	for i := range memoGeneration + 10 {
		k := `{"n":` + strconv.Itoa(i) + `}`
		s.ValidateCached(decode(t, k), k)
		if i == memoGeneration/2 || i == memoGeneration+5 {
			for _, d := range docs {
				doc := decode(t, d)
				same(t, d+" at "+strconv.Itoa(i), strs(s.ValidateCached(doc, d)), strs(s.Validate(doc)))
			}
		}
	}
	if n := len(s.memo.cur) + len(s.memo.old); n > 2*memoGeneration {
		t.Errorf("the memo holds %d documents, at most %d", n, 2*memoGeneration)
	}
}
