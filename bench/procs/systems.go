package procs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// otpctl is `otpctl run` of a tree of n exec children.
type otpctl struct {
	bin, dir string
	timeout  time.Duration
	foreground
}

func (s *otpctl) start(n int, argv []string) (int, error) {
	var b strings.Builder
	// An intensity no run reaches: the kills must not make it give up.
	b.WriteString("version: 1\nname: w8\nsupervisor:\n  strategy: one_for_one\n  max_frequency: 1000000\n  period: 1s\n  children:\n")
	q, _ := json.Marshal(argv)
	for i := range n {
		fmt.Fprintf(&b, "    - {name: c%d, kind: exec, args: {command: %s}}\n", i, q)
	}
	file := filepath.Join(s.dir, "w8.yaml")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		return 0, err
	}
	log, err := os.Create(filepath.Join(s.dir, "run.log"))
	if err != nil {
		return 0, err
	}
	defer log.Close()
	cmd := exec.Command(s.bin, "run", "--no-watch", "--socket", filepath.Join(s.dir, "w8.sock"), file)
	cmd.Stdout, cmd.Stderr = log, log
	return s.foreground.start(cmd)
}

func (s *otpctl) stop() error {
	if s.cmd == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	return s.wait(s.timeout, "otpctl run, after SIGTERM")
}

// foreground is a supervisor that runs as the bench's child.
type foreground struct {
	cmd    *exec.Cmd
	waited chan error
}

func (f *foreground) start(cmd *exec.Cmd) (int, error) {
	f.cmd = cmd
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	f.waited = make(chan error, 1)
	go func() { f.waited <- cmd.Wait() }()
	return cmd.Process.Pid, nil
}

// wait waits for it to exit, and kills it after timeout.
func (f *foreground) wait(timeout time.Duration, what string) error {
	select {
	case <-f.waited:
		return nil
	case <-time.After(timeout):
		_ = f.cmd.Process.Kill()
		<-f.waited
		return fmt.Errorf("%s: still running after %v (killed)", what, timeout)
	}
}

// supervisord is `supervisord -n` of one program with numprocs n.
type supervisord struct {
	dir, conf string
	timeout   time.Duration
	foreground
}

func (s *supervisord) start(n int, argv []string) (int, error) {
	s.conf = filepath.Join(s.dir, "supervisord.conf")
	sock := filepath.Join(s.dir, "sd.sock")
	conf := fmt.Sprintf(`[supervisord]
nodaemon=true
user=root
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s
loglevel=warn
minfds=%[3]d

[unix_http_server]
file=%[2]s

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%[2]s

[program:w8]
command=%[4]s
process_name=%%(program_name)s_%%(process_num)d
numprocs=%[5]d
autostart=true
autorestart=true
startsecs=0
startretries=1000000
stdout_logfile=NONE
stderr_logfile=NONE
`, s.dir, sock, 4*n+1024, strings.Join(argv, " "), n)
	if err := os.WriteFile(s.conf, []byte(conf), 0o644); err != nil {
		return 0, err
	}
	cmd := exec.Command("supervisord", "-n", "-c", s.conf)
	cmd.Dir = s.dir
	return s.foreground.start(cmd)
}

func (s *supervisord) stop() error {
	if s.cmd == nil {
		return nil
	}
	out, err := bounded(s.timeout, nil, "supervisorctl", "-c", s.conf, "shutdown")
	return s.wait(s.timeout, fmt.Sprintf("supervisord, after `supervisorctl shutdown` (%v: %s)", err, bytes.TrimSpace(out)))
}

// pm2 is `pm2 start` of an ecosystem file of n apps, with a PM2_HOME of
// its own.
type pm2 struct {
	dir     string
	timeout time.Duration
	env     []string
	daemon  int
}

func (s *pm2) start(n int, argv []string) (int, error) {
	s.env = append(os.Environ(), "PM2_HOME="+filepath.Join(s.dir, "pm2"))
	apps := make([]map[string]any, n)
	for i := range apps {
		// Restarted at once and for ever; no log files.
		apps[i] = map[string]any{"name": "w8-" + strconv.Itoa(i), "script": argv[0], "args": argv[1:],
			"interpreter": "none", "autorestart": true, "max_restarts": 1_000_000_000, "restart_delay": 0,
			"out_file": "/dev/null", "error_file": "/dev/null"}
	}
	eco, _ := json.Marshal(map[string]any{"apps": apps})
	file := filepath.Join(s.dir, "w8.config.json")
	if err := os.WriteFile(file, eco, 0o644); err != nil {
		return 0, err
	}
	if out, err := bounded(s.timeout, s.env, "pm2", "start", file); err != nil {
		return 0, fmt.Errorf("pm2 start: %v: %s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "pm2", "pm2.pid"))
	if err != nil {
		return 0, err
	}
	s.daemon, err = strconv.Atoi(strings.TrimSpace(string(b)))
	return s.daemon, err
}

func (s *pm2) stop() error {
	if s.env == nil {
		return nil
	}
	out, err := bounded(s.timeout, s.env, "pm2", "kill")
	// The daemon may take a moment to exit after `pm2 kill` returns.
	for end := time.Now().Add(5 * time.Second); s.daemon > 0 && alive(s.daemon) && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
	}
	if s.daemon > 0 && alive(s.daemon) {
		_ = syscall.Kill(s.daemon, syscall.SIGKILL)
		return fmt.Errorf("pm2's daemon outlived `pm2 kill` by 5 s (%v: %s; killed)", err, out)
	}
	return nil
}

// bounded runs a command to its end, within timeout.
func bounded(timeout time.Duration, env []string, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// alive says whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}
