package workers

import (
	"encoding/json"
	"math"
	"regexp"
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

// UnmarshalJSON reads a duration string or a whole number of seconds. Its
// error is a *json.UnmarshalTypeError whose Value is the value and what is
// wrong with it, so that DecodeArgs names the field.
func (d *Duration) UnmarshalJSON(b []byte) error {
	bad := func(why string) error {
		v := string(b)
		if why != "" {
			v += " (" + why + ")"
		}
		return &json.UnmarshalTypeError{Value: v, Type: durationType}
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs int64
		if err := json.Unmarshal(b, &secs); err != nil || secs < 0 {
			return bad("")
		}
		if secs > int64(maxDuration/time.Second) {
			return bad("more than the longest duration, " + maxDuration.String())
		}
		*d = Duration(time.Duration(secs) * time.Second)
		return nil
	}
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		why := strings.TrimPrefix(err.Error(), "time: ")
		if strings.HasPrefix(why, "invalid duration") && durationPattern.MatchString(strings.TrimSpace(s)) {
			why = "more than the longest duration, " + maxDuration.String()
		}
		return bad(why)
	}
	if v < 0 {
		return bad("negative")
	}
	*d = Duration(v)
	return nil
}

// durationPattern is DurationSchema's pattern: a string that matches it and
// does not parse is too long.
var durationPattern = func() *regexp.Regexp {
	var s struct{ Pattern string }
	if err := json.Unmarshal([]byte(DurationSchema), &s); err != nil {
		panic(err)
	}
	return regexp.MustCompile(s.Pattern)
}()

// maxDuration is the longest duration (about 292 years).
const maxDuration = time.Duration(math.MaxInt64)

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// String reads as a Go duration.
func (d Duration) String() string { return time.Duration(d).String() }
