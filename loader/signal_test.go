package loader

import (
	"errors"
	"syscall"
	"testing"
)

// ParseSignal takes the names otpctl signal and POST /v1/signal document:
// short or with SIG, in any case; any other is invalid and lists them.
func TestParseSignal(t *testing.T) {
	for name, want := range map[string]syscall.Signal{
		"HUP": syscall.SIGHUP, "SIGHUP": syscall.SIGHUP, "hup": syscall.SIGHUP, "sigusr1": syscall.SIGUSR1,
		"USR2": syscall.SIGUSR2, "INT": syscall.SIGINT, "TERM": syscall.SIGTERM, "QUIT": syscall.SIGQUIT, "WINCH": syscall.SIGWINCH,
	} {
		short, sig, err := ParseSignal(name)
		if err != nil || sig != want || "SIG"+short != syscallName(want) {
			t.Errorf("ParseSignal(%q) = %q, %v, %v; want %v", name, short, sig, err, want)
		}
	}
	for _, name := range []string{"", "KILL", "SIGKILL", "STOP", "9", "SIG", "HUPP"} {
		if _, _, err := ParseSignal(name); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSignal(%q): %v, want ErrInvalid", name, err)
		}
	}
}

func syscallName(s syscall.Signal) string {
	for name, sig := range map[string]syscall.Signal{"SIGHUP": syscall.SIGHUP, "SIGUSR1": syscall.SIGUSR1, "SIGUSR2": syscall.SIGUSR2,
		"SIGINT": syscall.SIGINT, "SIGTERM": syscall.SIGTERM, "SIGQUIT": syscall.SIGQUIT, "SIGWINCH": syscall.SIGWINCH} {
		if sig == s {
			return name
		}
	}
	return ""
}
