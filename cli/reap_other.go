//go:build !linux

package cli

import "log/slog"

// startReaper does nothing outside Linux, where otpctl is not a container's
// init.
func startReaper(*slog.Logger, func(int) bool) (stop func()) { return func() {} }
