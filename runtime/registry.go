package runtime

import (
	"errors"
	"fmt"
	"sync"
)

var registry = struct {
	sync.Mutex
	names map[string]*proc
}{names: map[string]*proc{}}

// ErrNameTaken is returned by Register when the name is in use.
var ErrNameTaken = errors.New("name already registered")

// Register registers pid under name, as Erlang's register/2. A process has at
// most one name; the name is dropped when the process exits.
func Register(name string, pid Pid) error {
	p := pid.p
	if p == nil || name == "" {
		return fmt.Errorf("register %q: %w", name, NoProc)
	}
	registry.Lock()
	defer registry.Unlock()
	if _, ok := registry.names[name]; ok {
		return fmt.Errorf("register %q: %w", name, ErrNameTaken)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dead {
		return fmt.Errorf("register %q: %w", name, NoProc)
	}
	if p.name != "" {
		return fmt.Errorf("register %q: %v is already registered as %q", name, pid, p.name)
	}
	p.name = name
	registry.names[name] = p
	return nil
}

// Unregister drops name. It reports whether the name was registered.
func Unregister(name string) bool {
	registry.Lock()
	p, ok := registry.names[name]
	delete(registry.names, name)
	registry.Unlock()
	if ok {
		p.mu.Lock()
		if p.name == name {
			p.name = ""
		}
		p.mu.Unlock()
	}
	return ok
}

// WhereIs returns the process registered under name.
func WhereIs(name string) (Pid, bool) {
	registry.Lock()
	defer registry.Unlock()
	p, ok := registry.names[name]
	return Pid{p}, ok
}

func unregisterProc(name string, p *proc) {
	registry.Lock()
	if registry.names[name] == p {
		delete(registry.names, name)
	}
	registry.Unlock()
}
