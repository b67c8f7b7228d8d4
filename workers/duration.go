package workers

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Duration is a duration in a kind's args, written as tree files write
// durations: a Go duration string ("500ms", "5s", "2m") or an integer
// meaning seconds. It is never negative.
type Duration time.Duration

// DurationSchema is the JSON Schema of a Duration, for a kind's Args. Its
// x-message is how `otpctl validate` words a value that breaks it (see
// package schema).
const DurationSchema = `{"type":["string","integer"],"pattern":"^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$","minimum":0,"x-message":"must be a duration such as 500ms, 5s or 2m, or a whole number of seconds"}`

// UnmarshalJSON reads a duration string or a whole number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs int64
		if err := json.Unmarshal(b, &secs); err != nil || secs < 0 {
			return fmt.Errorf("duration %s: want a string such as \"5s\" or a whole number of seconds", b)
		}
		*d = Duration(time.Duration(secs) * time.Second)
		return nil
	}
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// String reads as a Go duration.
func (d Duration) String() string { return time.Duration(d).String() }
