package loader

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/otpctl/otpctl/schema"
	"github.com/otpctl/otpctl/workers"
)

// checkArgs checks a dynamic child's merged args against its kind's args
// schema, then with its Check, before it is started, as the tree file's
// children are checked when the file is loaded. The error lists every violation
// ("/color: unknown key ...").
func checkArgs(k *workers.Kind, args json.RawMessage) error {
	doc, err := schema.Decode(args)
	if err != nil {
		return err
	}
	sch, err := schema.Args(k.Args)
	if err != nil {
		return fmt.Errorf("kind %q has an args schema that does not compile: %w", k.Name, err)
	}
	vs := sch.Validate(doc)
	if len(vs) == 0 {
		// What the schema cannot say, the kind's own parser does, as
		// for the tree file's children.
		return k.Check.Run(args)
	}
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.String()
	}
	return errors.New(strings.Join(msgs, "; "))
}
