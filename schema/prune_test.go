package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// childValues are values for each key of a child, valid and not; the first
// is valid.
var childValues = map[string][]any{
	"name":        {"w1", "a.b-c_d", "0x", "", "W1", "-w", "w 1", "wé", json.Number("3"), nil, true},
	"kind":        {"echo", "my-kind_2", "", "Echo", "2x", "a.b", "x y", json.Number("1"), []any{"echo"}},
	"args":        {map[string]any{}, map[string]any{"n": json.Number("1")}, map[string]any{"x": nil}, []any{}, "a", nil, json.Number("0")},
	"restart":     {"permanent", "transient", "temporary", "always", "", nil, json.Number("1")},
	"shutdown":    {"5s", "1m30s", "500ms", ".5s", "1.5h", "brutal_kill", "infinity", json.Number("10"), json.Number("0"), json.Number("-1"), json.Number("1.5"), json.Number("2.0"), json.Number("1e3"), "0s", "5", "s", "", "forever", true},
	"significant": {true, false, "yes", json.Number("1"), nil},
	"supervisor":  {map[string]any{}, map[string]any{"strategy": "bad"}, "x"},
	"include":     {"a.yaml", "", json.Number("1")},
	"dynamic":     {map[string]any{"kind": "echo"}, map[string]any{}},
	"pool":        {map[string]any{"kind": "echo", "size": json.Number("2")}, map[string]any{}},
	"stratgy":     {"x"},
}

func childKeys() []string {
	keys := make([]string, 0, len(childValues))
	for k := range childValues {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// randomChild is a child object of random keys and values, biased towards
// the plain worker shape.
func randomChild(rng *rand.Rand) any {
	if rng.IntN(20) == 0 {
		return []any{"not", "an", "object"}
	}
	c := map[string]any{}
	pick := func(k string) { // the first value, a valid one, half the time
		vs := childValues[k]
		c[k] = vs[max(0, rng.IntN(2*len(vs))-len(vs))]
	}
	if rng.IntN(10) > 0 {
		pick("name")
	}
	if rng.IntN(10) > 0 {
		pick("kind")
	}
	plainKeys := rng.IntN(2) == 0 // half the time, only the keys a plain worker may have
	for _, k := range childKeys() {
		switch k {
		case "name", "kind":
			continue
		case "args", "restart", "shutdown", "significant":
		default:
			if plainKeys {
				continue
			}
		}
		if rng.IntN(3) == 0 {
			pick(k)
		}
	}
	return c
}

// randomTree is a tree document whose supervisors (nested up to depth)
// have random children.
func randomTree(rng *rand.Rand, depth int) map[string]any {
	var sup func(d int) map[string]any
	sup = func(d int) map[string]any {
		var kids []any
		for range rng.IntN(8) {
			if d > 0 && rng.IntN(4) == 0 {
				kids = append(kids, map[string]any{"name": fmt.Sprintf("s%d", len(kids)), "supervisor": sup(d - 1)})
				continue
			}
			kids = append(kids, randomChild(rng))
		}
		s := map[string]any{"children": kids}
		if rng.IntN(10) == 0 {
			s["strategy"] = "one_for_any"
		}
		return s
	}
	return map[string]any{"version": json.Number("1"), "supervisor": sup(depth)}
}

// plainWorker only says valid of a child the schema accepts.
func TestPlainWorkerAgreesWithTheSchema(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	plain := 0
	for range 20000 {
		c := randomChild(rng)
		if !plainWorker(c) {
			continue
		}
		plain++
		doc := map[string]any{"version": json.Number("1"), "supervisor": map[string]any{"children": []any{c}}}
		if vs := tree().Validate(doc); len(vs) > 0 {
			t.Fatalf("plainWorker(%v) is true, but the schema says %v", c, vs)
		}
	}
	if plain < 1000 {
		t.Fatalf("only %d plain workers among the random children: the test proves little", plain)
	}
}

// ValidateTree (pruned) and the schema alone (not pruned) find the same
// violations, at the same pointers, in the same order.
func TestValidateTreeIsTheSchemasVerdict(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	found := 0
	for i := range 1500 {
		doc := randomTree(rng, 3)
		want := tree().Validate(doc)
		got := ValidateTree(doc)
		found += len(want)
		if !slices.Equal(got, want) {
			b, _ := json.Marshal(doc)
			t.Fatalf("tree %d %s:\npruned: %v\nschema: %v", i, b, got, want)
		}
	}
	if found < 1000 {
		t.Fatalf("only %d violations in the random trees: the test proves little", found)
	}
}

// ValidateTree leaves the document as it was.
func TestValidateTreeChangesNothing(t *testing.T) {
	doc := decode(t, `{"version":1,"supervisor":{"children":[{"name":"a","kind":"echo"},{"name":"s","supervisor":{"children":[{"name":"b","kind":"echo"},{"name":"B"}]}}]}}`)
	before, _ := json.Marshal(doc)
	same(t, "violations", strs(ValidateTree(doc)), []string{
		"/supervisor/children/1/supervisor/children/1: needs one of kind, supervisor, include, dynamic or pool",
		`/supervisor/children/1/supervisor/children/1/name: must be a name: lower-case letters, digits, '_', '.' and '-', starting with a letter or a digit; got "B"`,
	})
	if after, _ := json.Marshal(doc); string(after) != string(before) {
		t.Errorf("the document changed:\n%s\n%s", before, after)
	}
}

// TestPlainWorkerRules fails when a part of the tree schema that
// plainWorker mirrors changes: review plainWorker (and its patterns), then
// update the digest.
func TestPlainWorkerRules(t *testing.T) {
	var sch struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal([]byte(TreeSchema()), &sch); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, d := range []string{"child", "name", "kindName", "args", "restart", "shutdown", "significant", "supervisor"} {
		var v any
		if err := json.Unmarshal(sch.Defs[d], &v); err != nil {
			t.Fatalf("$defs/%s: %v", d, err)
		}
		b, _ := json.Marshal(v) // canonical: keys sorted
		fmt.Fprintf(h, "%s=%s\n", d, b)
	}
	const want = "a232004e1102620084785ae090aab89c2e1fe8ae82e6e500fe5ab20e81c7fa66"
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("the schema's child rules changed (digest %s): check that plainWorker still accepts only what $defs/child accepts", got)
	}
}

func FuzzValidateTree(f *testing.F) {
	f.Add(`{"version":1,"supervisor":{"children":[{"name":"a","kind":"echo"},{"name":"b","kind":"echo","shutdown":"5s"}]}}`)
	f.Add(`{"version":1,"supervisor":{"children":[{"name":"a","kind":"echo","x":1},{"name":"s","supervisor":{"children":[{"name":"b","kind":"e","restart":"no"}]}}]}}`)
	f.Fuzz(func(t *testing.T, text string) {
		doc, err := Decode([]byte(text))
		if err != nil {
			return
		}
		if got, want := ValidateTree(doc), tree().Validate(doc); !slices.Equal(got, want) {
			t.Fatalf("%s:\npruned: %v\nschema: %v", text, got, want)
		}
	})
}
