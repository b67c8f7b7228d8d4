package spec

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/otpctl/otpctl/internal/suggest"
)

// fileKind is a kind declared under `kinds:`, which applies in its file.
type fileKind struct {
	name     string
	key      *yaml.Node // the kind's key under kinds:
	base     string
	baseNode *yaml.Node
	args     *yaml.Node // its args mapping, or nil
	argsV    any        // args as JSON values
	restart  string     // "" when it sets none
	shutdown Shutdown   // 0 when it sets none
	backoff  *Backoff   // nil when it sets none

	state int // unresolved, resolving, resolved, broken
	// registered is the registered kind it comes down to; chain is the
	// kind itself and the file kinds it builds on, nearest first.
	registered string
	chain      []*fileKind
}

const (
	kindUnresolved = iota
	kindResolving
	kindResolved
	kindBroken
)

// resolveKinds reads f's kinds: section and resolves every kind to a
// registered one, reporting unknown bases and cycles once per file.
func (l *loader) resolveKinds(f *fileDoc) {
	f.kinds = map[string]*fileKind{}
	_, section := field(f.root, "kinds")
	if section == nil || f.bad[section] {
		return
	}
	var order []*fileKind
	eachField(section, func(k, v *yaml.Node) bool {
		if k.Kind != yaml.ScalarNode || f.bad[k] {
			return true
		}
		fk := &fileKind{name: k.Value, key: k}
		if f.bad[v] {
			fk.state = kindBroken
		}
		if _, ok := l.kinds.ArgsSchema(fk.name); ok {
			f.errorf(k, "kind %q is already a registered kind; give this one another name", fk.name)
			fk.state = kindBroken
		}
		eachField(v, func(k, v *yaml.Node) bool {
			switch k.Value {
			case "base":
				if s, ok := scalarString(v); ok && !f.bad[v] {
					fk.base, fk.baseNode = s, deref(v)
				}
			case "args":
				if !f.bad[v] {
					fk.args = v
					fk.argsV = jget(jget(jget(f.value, "kinds"), fk.name), "args")
				}
			case "restart":
				if s, ok := scalarString(v); ok && !f.bad[v] {
					fk.restart = s
				}
			case "shutdown":
				if d, ok := shutdownValue(f.document, v); ok {
					fk.shutdown = d
				}
			case "backoff":
				if b, ok := backoffValue(f.document, v); ok {
					fk.backoff = b
				}
			}
			return true
		}, nil, nil)
		if fk.baseNode == nil {
			fk.state = kindBroken // the schema said why
		}
		f.kinds[fk.name] = fk
		order = append(order, fk)
		return true
	}, nil, nil)
	for _, fk := range order {
		l.resolveKind(f, fk, nil)
	}
}

func (l *loader) resolveKind(f *fileDoc, fk *fileKind, stack []*fileKind) {
	switch fk.state {
	case kindResolved, kindBroken:
		return
	case kindResolving:
		// fk's base chain comes back to fk: report at the base that
		// closes the loop.
		last := stack[len(stack)-1]
		names := []string{}
		start := 0
		for i, s := range stack {
			if s == fk {
				start = i
			}
		}
		for _, s := range stack[start:] {
			names = append(names, s.name)
		}
		names = append(names, fk.name)
		f.errorf(last.baseNode, "kinds build on each other in a cycle: %s", strings.Join(names, " → "))
		for _, s := range stack[start:] {
			s.state = kindBroken
		}
		return
	}
	fk.state = kindResolving
	stack = append(stack, fk)
	if base, ok := f.kinds[fk.base]; ok && base != fk {
		l.resolveKind(f, base, stack)
		if fk.state == kindBroken || base.state == kindBroken {
			fk.state = kindBroken
			return
		}
		fk.registered = base.registered
		fk.chain = append([]*fileKind{fk}, base.chain...)
		fk.state = kindResolved
		return
	}
	if fk.base == fk.name {
		f.errorf(fk.baseNode, "kind %q cannot build on itself", fk.name)
		fk.state = kindBroken
		return
	}
	if _, ok := l.kinds.ArgsSchema(fk.base); !ok {
		f.errorf(fk.baseNode, "base: %s", l.unknownKind(f, fk.base))
		fk.state = kindBroken
		return
	}
	fk.registered = fk.base
	fk.chain = []*fileKind{fk}
	fk.state = kindResolved
}

// unknownKind words an unknown kind name, with the closest known one.
func (l *loader) unknownKind(f *fileDoc, name string) string {
	msg := fmt.Sprintf("unknown kind %q", name)
	names := l.kinds.Names()
	for n := range f.kinds {
		names = append(names, n)
	}
	if s := suggest.Closest(name, sortedUnique(names)); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}
