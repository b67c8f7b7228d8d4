package builtin

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/otpctl/otpctl/internal/envfile"
	"github.com/otpctl/otpctl/internal/expand"
	"github.com/otpctl/otpctl/internal/keeper"
	"github.com/otpctl/otpctl/internal/trust"
	"github.com/otpctl/otpctl/workers"
)

// The args of an exec child about whom it runs as and with what
// environment: user, group, env_file, umask, limits (and the expansion of
// ${VAR} in command, env and dir). They are read at each start, so that a
// changed env file (or user) takes effect on the next restart.

// runAsArgs are exec's args of this file, embedded in execArgs.
type runAsArgs struct {
	User    idName                     `json:"user"`
	Group   idName                     `json:"group"`
	EnvFile stringList                 `json:"env_file"`
	Umask   string                     `json:"umask"`
	Limits  map[string]json.RawMessage `json:"limits"`
}

// idName is a user or group: a name, or a number (written as a YAML
// integer or a string of digits).
type idName string

// UnmarshalJSON takes a string or a whole number.
func (n *idName) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*n = idName(s)
		return nil
	}
	var u uint32
	if err := json.Unmarshal(b, &u); err != nil {
		return err
	}
	*n = idName(strconv.FormatUint(uint64(u), 10))
	return nil
}

// stringList is a string or a list of strings.
type stringList struct {
	items []string
	list  bool // written as a list
}

// UnmarshalJSON takes a string or an array of strings.
func (l *stringList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = stringList{items: []string{s}}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*l = stringList{items: list, list: true}
	return nil
}

// limitNames are the resource limits exec sets, in the order they are
// listed; limitHelp says what each one's number is.
var limitNames = []string{"nofile", "nproc", "core", "memlock", "stack", "as", "cpu"}

var limitHelp = map[string]string{
	"nofile":  "open files (RLIMIT_NOFILE)",
	"nproc":   "processes of the user (RLIMIT_NPROC)",
	"core":    "bytes of a core dump (RLIMIT_CORE); 0 for none",
	"memlock": "bytes of locked memory (RLIMIT_MEMLOCK)",
	"stack":   "bytes of stack (RLIMIT_STACK)",
	"as":      "bytes of address space (RLIMIT_AS)",
	"cpu":     "seconds of CPU time (RLIMIT_CPU)",
}

// Infinity is RLIM_INFINITY, what "infinity" means for a limit.
const rlimInfinity = math.MaxUint64

// runAsSchema is the args schema of runAsArgs: members of exec's
// "properties".
func runAsSchema() string {
	var limits []string
	for _, n := range limitNames {
		limits = append(limits, fmt.Sprintf(`%q: {"description": %q, "oneOf": [{"type": "integer", "minimum": 0, "x-message": %[3]q}, {"const": "infinity", "x-message": %[3]q}]}`, n, limitHelp[n], `must be a whole number of at least 0, or "infinity"`))
	}
	id := func(what string) string {
		return fmt.Sprintf(`{"type": ["string", "integer"], "minLength": 1, "minimum": 0, "maximum": 4294967294, "description": %q}`, what)
	}
	return `"user": ` + id("run as this user (a name or a uid): its uid, its groups as su sets them, HOME, USER and LOGNAME from its entry; otpctl must run as root, or as that user") + `,
    "group": ` + id("run with this group (a name or a gid) as its group; with user, instead of the user's own group") + `,
    "env_file": {"anyOf": [{"type": "string", "minLength": 1}, {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}], "x-file-path": true, "description": "files of KEY=VALUE lines read at each start, over otpctl's environment, under env; relative to the tree file's folder; a leading - makes a file optional"},
    "umask": {"type": "string", "pattern": "^0?[0-7]{3}$", "x-message": "must be an octal umask in quotes, such as \"027\"", "description": "the process's umask, in octal (default: otpctl's)"},
    "limits": {"type": "object", "additionalProperties": false, "description": "resource limits of the process, soft and hard alike (default: otpctl's)", "properties": {` + strings.Join(limits, ", ") + `}}`
}

// runAs is runAsArgs parsed, before anything is looked up.
type runAs struct {
	user, group string
	envFiles    []string
	envFileList bool // env_file was written as a list
	umask       *int
	limits      []spawnLimit
}

// spawnAttr is what the keeper applies to a child besides its program,
// arguments, environment and folder (user, umask, limits), with its parts.
type (
	spawnAttr  = keeper.Attr
	spawnCred  = keeper.Cred
	spawnLimit = keeper.Limit
)

func parseRunAs(a runAsArgs) (*runAs, error) {
	r := &runAs{user: string(a.User), group: string(a.Group), envFiles: a.EnvFile.items, envFileList: a.EnvFile.list}
	var errs []error
	if a.Umask != "" {
		m, err := strconv.ParseUint(a.Umask, 8, 32)
		if err != nil || m > 0o777 {
			errs = append(errs, &workers.ArgError{Pointer: "/umask", Message: fmt.Sprintf("%q must be an octal umask in quotes, such as \"027\"", a.Umask)})
		} else {
			u := int(m)
			r.umask = &u
		}
	}
	for _, name := range slices.Sorted(maps.Keys(a.Limits)) {
		raw := a.Limits[name]
		if !slices.Contains(limitNames, name) {
			errs = append(errs, &workers.ArgError{Pointer: workers.ArgPointer("limits", name), Message: "is not one of " + strings.Join(limitNames, ", ")})
			continue
		}
		var v uint64
		var s string
		switch {
		case json.Unmarshal(raw, &v) == nil:
		case json.Unmarshal(raw, &s) == nil && s == "infinity":
			v = rlimInfinity
		default:
			errs = append(errs, &workers.ArgError{Pointer: workers.ArgPointer("limits", name), Message: fmt.Sprintf(`must be a whole number from 0 to %d, or "infinity", not %s`, uint64(math.MaxUint64-1), raw)})
			continue
		}
		r.limits = append(r.limits, spawnLimit{Name: name, Value: v})
	}
	for i, f := range r.envFiles {
		errs = noNUL(errs, f, envFilePointer(r.envFileList, i)...)
	}
	errs = noNUL(errs, r.user, "user")
	errs = noNUL(errs, r.group, "group")
	return r, errors.Join(errs...)
}

// envFilePointer is the path of env file i in the args: env_file itself
// when it is one string.
func envFilePointer(list bool, i int) []any {
	if !list {
		return []any{"env_file"}
	}
	return []any{"env_file", i}
}

// launch is what a start runs: the args with the machine's facts read.
type launch struct {
	command []string
	env     []string
	dir     string
	attr    *spawnAttr // nil: nothing besides
}

// resolve reads, for one start of cfg, what the args name on this machine:
// the user and group, the env files; and expands ${VAR} in env, then in
// command and dir. The environment is built in this order, each over the
// one before: otpctl's, OTPCTL_INDEX for a pool member (index > 0), HOME,
// USER and LOGNAME of user, the env files in order, env. An env value
// expands against what comes before env; command and dir against the whole
// environment. Its errors are *workers.ArgError naming the arg at fault.
func (cfg *execConfig) resolve(index int) (*launch, error) {
	vars := map[string]string{}
	base := os.Environ()
	for _, kv := range base {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	set := func(k, v string) { vars[k] = v }
	if index > 0 {
		set(IndexEnv, strconv.Itoa(index))
	}
	r := cfg.runAs
	l := &launch{}
	var errs []error
	if r.user != "" || r.group != "" {
		cred, ent, err := r.credentials()
		if err != nil {
			errs = append(errs, err)
		}
		if ent != nil {
			set("HOME", ent.home)
			set("USER", ent.name)
			set("LOGNAME", ent.name)
		}
		if cred != nil {
			l.attr = &spawnAttr{Cred: cred, As: r.describe()}
		}
	}
	if r.umask != nil || len(r.limits) > 0 {
		if l.attr == nil {
			l.attr = &spawnAttr{}
		}
		l.attr.Umask, l.attr.Limits = r.umask, r.limits
	}
	for i, f := range r.envFiles {
		vs, err := readEnvFile(f)
		if err != nil {
			errs = append(errs, &workers.ArgError{Pointer: workers.ArgPointer(envFilePointer(r.envFileList, i)...), Message: err.Error()})
			continue
		}
		for _, v := range vs {
			set(v.Key, v.Value)
		}
	}
	lookup := func(m map[string]string) expand.Lookup {
		return func(name string) (string, bool) { v, ok := m[name]; return v, ok }
	}
	over := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(cfg.env)) {
		v, err := expand.String(cfg.env[k], lookup(vars))
		if err != nil {
			errs = append(errs, &workers.ArgError{Pointer: workers.ArgPointer("env", k), Message: err.Error()})
			continue
		}
		over[k] = v
	}
	for k, v := range over {
		vars[k] = v
	}
	for i, arg := range cfg.command {
		v, err := expand.String(arg, lookup(vars))
		if err != nil {
			errs = append(errs, &workers.ArgError{Pointer: workers.ArgPointer("command", i), Message: err.Error()})
		}
		l.command = append(l.command, v)
	}
	dir, err := expand.String(cfg.dir, lookup(vars))
	if err != nil {
		errs = append(errs, &workers.ArgError{Pointer: "/dir", Message: err.Error()})
	}
	l.dir = dir
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if _, own := over["PWD"]; !own && l.dir != "" {
		// os/exec sets PWD for Dir only when it builds the environment
		// itself: here it is otpctl's, so say the child's (unless env
		// does).
		if abs, err := filepath.Abs(l.dir); err == nil {
			vars["PWD"] = abs
		}
	}
	// otpctl's own variables keep their order; the others follow, sorted.
	delete(vars, "")
	l.env = mergeEnv(base, vars)
	if l.command[0] == "" {
		return nil, &workers.ArgError{Pointer: "/command/0", Message: "is empty once expanded: it must name a program"}
	}
	return l, nil
}

// readEnvFile reads an env file; a leading - makes a missing one empty.
// As root, a file that another user could change is refused, as tree
// files are: whoever writes it sets the child's environment (LD_PRELOAD).
func readEnvFile(name string) ([]envfile.Var, error) {
	optional := strings.HasPrefix(name, "-")
	name = strings.TrimPrefix(name, "-")
	vars, err := envfile.Read(name)
	if err != nil {
		if optional && envfile.IsNotExist(err) {
			return nil, nil
		}
		if envfile.IsNotExist(err) {
			return nil, fmt.Errorf("env file %s does not exist (it is read at each start; a leading - makes it optional)", name)
		}
		return nil, err
	}
	if os.Geteuid() == 0 {
		if err := trust.Path(name, 0); err != nil {
			return nil, fmt.Errorf("env file refused: %w: another user could change the environment of what otpctl runs as root", err)
		}
	}
	return vars, nil
}

// entry is what a child's environment takes from its user's entry.
type entry struct{ name, home string }

// describe names who the child runs as: "user ann", "group staff", "user
// ann, group staff".
func (r *runAs) describe() string {
	var parts []string
	if r.user != "" {
		parts = append(parts, "user "+r.user)
	}
	if r.group != "" {
		parts = append(parts, "group "+r.group)
	}
	return strings.Join(parts, ", ")
}

// credentials looks up user and group. It returns the credentials to
// switch to (nil when otpctl already runs as them, not being root) and the
// user's entry (nil without user). Its errors say why the switch cannot
// be done, at /user or /group.
func (r *runAs) credentials() (*spawnCred, *entry, error) {
	cred := &spawnCred{UID: uint32(os.Geteuid()), GID: uint32(os.Getegid()), Groups: []uint32{}}
	var ent *entry
	if r.user != "" {
		u, err := lookupUser(r.user)
		if err != nil {
			return nil, nil, &workers.ArgError{Pointer: "/user", Message: err.Error()}
		}
		ent = &entry{name: u.Username, home: u.HomeDir}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		cred.UID, cred.GID = uint32(uid), uint32(gid)
		ids, err := u.GroupIds()
		if err != nil {
			return nil, nil, &workers.ArgError{Pointer: "/user", Message: fmt.Sprintf("cannot read the groups of %s: %v", u.Username, err)}
		}
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil {
				cred.Groups = append(cred.Groups, uint32(g))
			}
		}
	}
	if r.group != "" {
		gid, err := lookupGroup(r.group)
		if err != nil {
			return nil, nil, &workers.ArgError{Pointer: "/group", Message: err.Error()}
		}
		cred.GID = gid
	}
	if os.Geteuid() == 0 {
		return cred, ent, nil
	}
	// Not root: only who otpctl is already.
	me := trust.UserName(uint32(os.Geteuid()))
	if r.user != "" && cred.UID != uint32(os.Geteuid()) {
		return nil, nil, &workers.ArgError{Pointer: "/user", Message: fmt.Sprintf("otpctl runs as %s, not root: it cannot run a child as user %s", me, r.user)}
	}
	if r.group != "" && cred.GID != uint32(os.Getegid()) {
		return nil, nil, &workers.ArgError{Pointer: "/group", Message: fmt.Sprintf("otpctl runs as %s with gid %d, not root: it cannot run a child with group %s", me, os.Getegid(), r.group)}
	}
	return nil, ent, nil
}

// lookupUser finds a user by name, or by uid for a number.
func lookupUser(s string) (*user.User, error) {
	if _, err := strconv.ParseUint(s, 10, 32); err == nil {
		u, err := user.LookupId(s)
		if err != nil {
			return nil, fmt.Errorf("no user with uid %s on this machine%s", s, unlessUnknown(err))
		}
		return u, nil
	}
	u, err := user.Lookup(s)
	if err != nil {
		return nil, fmt.Errorf("no user named %q on this machine%s", s, unlessUnknown(err))
	}
	return u, nil
}

// lookupGroup finds a group's gid by name; a number is a gid, which needs
// no entry.
func lookupGroup(s string) (uint32, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return uint32(n), nil
	}
	g, err := user.LookupGroup(s)
	if err != nil {
		return 0, fmt.Errorf("no group named %q on this machine%s", s, unlessUnknown(err))
	}
	n, err := strconv.ParseUint(g.Gid, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("group %q has gid %q, not a number", s, g.Gid)
	}
	return uint32(n), nil
}

// unlessUnknown is ": ERR" for an error of a user or group lookup other
// than "no such one", which the message says already.
func unlessUnknown(err error) string {
	var u1 user.UnknownUserError
	var u2 user.UnknownUserIdError
	var g1 user.UnknownGroupError
	var g2 user.UnknownGroupIdError
	if errors.As(err, &u1) || errors.As(err, &u2) || errors.As(err, &g1) || errors.As(err, &g2) {
		return ""
	}
	return ": " + err.Error()
}
