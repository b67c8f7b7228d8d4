// Package runtime is otpctl's OTP-style actor runtime.
package runtime
