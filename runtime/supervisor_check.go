package runtime

import (
	"fmt"
	"time"
)

// The checks OTP's supervisor makes of its flags and child specs, at start
// (checkSpec), on StartChild and on each reload Change.

// checkFlags checks flags as OTP's check_flags.
func checkFlags(path string, f Flags, dynamic bool) error {
	switch {
	case f.Strategy < OneForOne || f.Strategy > RestForOne:
		return fmt.Errorf("supervisor %s: invalid_strategy %v: %w", path, f.Strategy, ErrInvalidSpec)
	case dynamic && f.Strategy != OneForOne:
		return fmt.Errorf("supervisor %s: a dynamic supervisor's strategy is one_for_one, not %v: %w", path, f.Strategy, ErrInvalidSpec)
	case f.MaxFrequency < 0:
		return fmt.Errorf("supervisor %s: invalid_intensity %d: %w", path, f.MaxFrequency, ErrInvalidSpec)
	case f.Period < 0:
		return fmt.Errorf("supervisor %s: invalid_period %v: %w", path, f.Period, ErrInvalidSpec)
	case f.AutoShutdown < Never || f.AutoShutdown > AllSignificant:
		return fmt.Errorf("supervisor %s: invalid_auto_shutdown %v: %w", path, f.AutoShutdown, ErrInvalidSpec)
	}
	return checkBackoff(path, "(default)", f.Backoff)
}

// checkChild checks a child spec as OTP's check_childspec. A dynamic
// supervisor's children may lack an ID and a Start (the template gives
// them).
func checkChild(path string, c *ChildSpec, as AutoShutdown, dynamic bool) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("supervisor %s: child %q: %s: %w", path, c.ID, fmt.Sprintf(format, args...), ErrInvalidSpec)
	}
	switch {
	case c.ID == "" && !dynamic:
		return bad("missing_id")
	case c.Start == nil && !dynamic:
		return bad("missing_start")
	case c.Restart < Permanent || c.Restart > Temporary:
		return bad("invalid_restart_type %v", c.Restart)
	case c.Type != Worker && c.Type != SupervisorChild:
		return bad("invalid_child_type %v", c.Type)
	case c.Shutdown < 0 && c.Shutdown != BrutalKill && c.Shutdown != Infinity:
		return bad("invalid_shutdown %v", time.Duration(c.Shutdown))
	case c.Significant && as == Never:
		return bad("bad_combination auto_shutdown never, significant true")
	case c.Significant && c.Restart == Permanent:
		return bad("bad_combination restart permanent, significant true")
	}
	return checkBackoff(path, c.ID, c.Backoff)
}

func checkDynamic(path string, d *DynamicSpec, as AutoShutdown) error {
	if d.MaxChildren < 0 {
		return fmt.Errorf("supervisor %s: max_children %d: %w", path, d.MaxChildren, ErrInvalidSpec)
	}
	return checkChild(path, &d.Template, as, true)
}

// checkSpec checks a supervisor spec as OTP's init does (check_flags,
// check_startspec with duplicate_child_name).
func checkSpec(spec *SupervisorSpec) error {
	if err := checkFlags(spec.Path, spec.Flags, spec.Dynamic != nil); err != nil {
		return err
	}
	if spec.Dynamic != nil {
		if len(spec.Children) > 0 {
			return fmt.Errorf("supervisor %s: a dynamic supervisor starts with no children: %w", spec.Path, ErrInvalidSpec)
		}
		return checkDynamic(spec.Path, spec.Dynamic, spec.AutoShutdown)
	}
	seen := make(map[string]bool, len(spec.Children))
	for i := range spec.Children {
		c := &spec.Children[i]
		if err := checkChild(spec.Path, c, spec.AutoShutdown, false); err != nil {
			return err
		}
		if seen[c.ID] {
			return fmt.Errorf("supervisor %s: duplicate_child_name %q: %w", spec.Path, c.ID, ErrInvalidSpec)
		}
		seen[c.ID] = true
	}
	return nil
}

// checkNotSignificant checks that no child (nor a dynamic supervisor's
// template) is significant, before AutoShutdown turns Never: OTP's
// bad_combination.
func (st *sup) checkNotSignificant() error {
	for _, c := range st.children {
		if c.spec.Significant {
			return fmt.Errorf("supervisor %s: child %s is significant: bad_combination auto_shutdown never: %w", st.path, c.spec.ID, ErrInvalidSpec)
		}
	}
	if st.dyn != nil && st.dyn.Template.Significant {
		return fmt.Errorf("supervisor %s: template is significant: bad_combination auto_shutdown never: %w", st.path, ErrInvalidSpec)
	}
	return nil
}
