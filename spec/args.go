package spec

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/otpctl/otpctl/schema"
)

// args merges a worker's args over its kind's (base-most kind first, the
// child's own last), checks them against the registered kind's args
// schema and returns them as canonical JSON. A dynamic supervisor's
// template may leave out required args: they can come with each child at
// run time.
func (w *walker) args(wk *Worker, fk *fileKind, kindNode, argsNode *yaml.Node, dynamic bool) json.RawMessage {
	// The layers, nearest first: the child's args, then its kinds'.
	var layers []*yaml.Node
	if argsNode != nil {
		layers = append(layers, argsNode)
	}
	if fk != nil {
		for _, k := range fk.chain {
			if k.args != nil && !w.f.bad[k.args] {
				layers = append(layers, k.args)
			}
		}
	}
	var merged any = map[string]any{}
	for i := len(layers) - 1; i >= 0; i-- {
		c := &converter{doc: w.f.document, budget: maxAliasNodes + countNodes(layers[i]), quiet: true, active: map[*yaml.Node]bool{}}
		v, ok := c.value(layers[i])
		if !ok {
			continue
		}
		merged = mergePatch(merged, v)
	}

	text, _ := w.l.kinds.ArgsSchema(wk.Base)
	sch, err := schema.Args(text)
	if err != nil {
		if !w.l.argsBad[wk.Base] {
			w.l.argsBad[wk.Base] = true
			w.f.errorf(kindNode, "kind %q has an args schema that does not compile (a bug in the kind): %v", wk.Base, err)
		}
	} else {
		for _, v := range sch.Validate(merged) {
			if dynamic && v.Keyword == "required" {
				continue
			}
			w.argsViolation(v, layers, kindNode)
		}
	}
	return canonical(merged)
}

// argsViolation reports an args violation at the layer that wrote the
// value at fault: the child's args, else the nearest kind's; a value no
// layer wrote (a missing key) is reported at the child's args, else at its
// kind.
func (w *walker) argsViolation(v schema.Violation, layers []*yaml.Node, kindNode *yaml.Node) {
	toks := pointerTokens(v.Pointer)
	var at *yaml.Node
	for _, layer := range layers {
		node, key := nodeAt(layer, toks)
		if node == nil {
			continue
		}
		at = node
		if v.AtKey && key != nil {
			at = key
		}
		break
	}
	if at == nil {
		at = kindNode
		if len(layers) > 0 {
			at = layers[0]
		}
	}
	labelToks := toks
	if v.AtKey && len(toks) > 0 {
		labelToks = toks[:len(toks)-1]
	}
	w.f.errorf(at, "%s: %s", argsLabel(labelToks), v.Message)
}

// argsLabel names a place in args: args.ready.tcp, args.command[1].
func argsLabel(toks []string) string {
	var b strings.Builder
	b.WriteString("args")
	for _, t := range toks {
		if _, err := strconv.Atoi(t); err == nil {
			b.WriteString("[" + t + "]")
		} else {
			b.WriteString("." + t)
		}
	}
	return b.String()
}

// mergePatch applies patch over base as a JSON Merge Patch (RFC 7386):
// objects merge key by key, recursively; null removes a key; anything else
// replaces. base is not modified.
func mergePatch(base, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	b, _ := base.(map[string]any)
	out := make(map[string]any, len(b)+len(p))
	for k, v := range b {
		out[k] = v
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = mergePatch(out[k], v)
	}
	return out
}

// canonical encodes v as compact JSON with sorted keys (encoding/json
// sorts map keys) and without HTML escaping, so equal args are equal
// bytes.
func canonical(v any) json.RawMessage {
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		return json.RawMessage("{}")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return json.RawMessage("{}") // cannot happen: v holds JSON values only
	}
	return json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n"))
}
