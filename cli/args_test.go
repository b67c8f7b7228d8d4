package cli

import (
	"slices"
	"strings"
	"testing"
)

func TestNormalizeArgs(t *testing.T) {
	app := App(nil, nil)
	cases := []struct{ in, want string }{
		{"otpctl kill shop/web --reason boom", "otpctl kill --reason boom shop/web"},
		{"otpctl kill --reason=boom shop/web", "otpctl kill --reason=boom shop/web"},
		{"otpctl call shop/c {\"op\":\"get\"} --timeout 2s", "otpctl call --timeout 2s shop/c {\"op\":\"get\"}"},
		{"otpctl call shop/c -1", "otpctl call shop/c -1"},
		{"otpctl tree --json", "otpctl tree --json"},
		{"otpctl tree --json --name a", "otpctl tree --json --name a"},
		{"otpctl start shop/jobs --name n --args {} --socket s", "otpctl start --name n --args {} --socket s shop/jobs"},
		{"otpctl wait shop/x -- --weird", "otpctl wait shop/x -- --weird"},
		{"otpctl --help", "otpctl --help"},
		{"otpctl nosuch a --b", "otpctl nosuch a --b"},
		// Global flags before the command.
		{"otpctl --name shop2 tree", "otpctl tree --name shop2"},
		{"otpctl --socket /s --json tree --watch", "otpctl tree --socket /s --json --watch"},
		{"otpctl --json --name=shop2 kill shop2/w --reason x", "otpctl kill --json --name=shop2 --reason x shop2/w"},
		{"otpctl --name shop2 start shop2/jobs --name j1", "otpctl start --instance shop2 --name j1 shop2/jobs"},
		{"otpctl --name=shop2 start shop2/jobs", "otpctl start --instance=shop2 shop2/jobs"},
		{"otpctl --log-format json run t.yaml", "otpctl run --log-format json t.yaml"},
		{"otpctl --help tree", "otpctl --help tree"},
		{"otpctl --name shop2", "otpctl --name shop2"},
		{"otpctl --name shop2 nosuch", "otpctl --name shop2 nosuch"},
		{"otpctl -- tree", "otpctl -- tree"},
		{"otpctl __complete --name x tree", "otpctl __complete --name x tree"},
		// Bool flags take no value: the word after one stays an argument.
		{"otpctl kill --json shop/w --reason x", "otpctl kill --json --reason x shop/w"},
		{"otpctl kill shop/w --json --reason=x", "otpctl kill --json --reason=x shop/w"},
		// Global flags among and after the arguments.
		{"otpctl kill shop/w --name shop2 --reason x", "otpctl kill --name shop2 --reason x shop/w"},
		{"otpctl --socket=/s kill shop/w --reason x --json", "otpctl kill --socket=/s --reason x --json shop/w"},
		{"otpctl call shop/c --socket /s {} --name shop", "otpctl call --socket /s --name shop shop/c {}"},
		// "--" after flags: what follows it stays as written.
		{"otpctl kill --reason x -- shop/w --json", "otpctl kill --reason x -- shop/w --json"},
		// A flag the command does not have moves too, without a value,
		// for urfave/cli to refuse it by name.
		{"otpctl kill shop/w --bogus x", "otpctl kill --bogus shop/w x"},
		{"otpctl kill shop/w --bogus=1", "otpctl kill --bogus=1 shop/w"},
		{"otpctl kill shop/w -h", "otpctl kill -h shop/w"},
	}
	for _, c := range cases {
		got := strings.Join(normalizeArgs(app.Commands, strings.Fields(c.in)), " ")
		if got != c.want {
			t.Errorf("normalizeArgs(%s) = %s, want %s", c.in, got, c.want)
		}
	}
	if !slices.Equal(normalizeArgs(app.Commands, []string{"otpctl"}), []string{"otpctl"}) {
		t.Error("no command")
	}
}
