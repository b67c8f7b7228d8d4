package live

import (
	"encoding/json"
	"testing"
	"time"
)

// The JSON of a node is the control API's and `otpctl tree --json`'s: the
// names and what is left out when unset are public.
func TestNodeJSON(t *testing.T) {
	at := time.Date(2026, 11, 24, 20, 0, 0, 0, time.UTC)
	n := &Node{
		Path: "shop", Name: "shop", Type: "supervisor", Strategy: "one_for_one",
		State: "running", Started: &at, Restart: "permanent", Shutdown: "infinity",
		Budget: &Budget{Used: 1, Max: 3, Period: "1m"}, AutoShutdown: "never",
		Children: []*Node{
			{Path: "shop/web", Name: "web", Type: "worker", Kind: "web", State: "running", OSPid: 4711,
				Restarts: 2, LastRestart: &at, Started: &at, CrashRestarts: 1, LastExit: &Exit{Reason: "exit status 1", At: at}, Mailbox: 3, Restart: "transient", Shutdown: "1m30s", Significant: true},
			{Path: "shop/jobs", Name: "jobs", Type: "supervisor", Kind: "echo", Strategy: "one_for_one",
				State: "stopped", Dynamic: true, MaxChildren: 5, Restart: "permanent", Shutdown: "infinity"},
		},
	}
	got, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"path":"shop","name":"shop","type":"supervisor","strategy":"one_for_one","state":"running","restarts":0,` +
		`"started":"2026-11-24T20:00:00Z","crash_restarts":0,"mailbox":0,"restart":"permanent","shutdown":"infinity",` +
		`"budget":{"used":1,"max":3,"period":"1m"},"auto_shutdown":"never","children":[` +
		`{"path":"shop/web","name":"web","type":"worker","kind":"web","state":"running","os_pid":4711,"restarts":2,` +
		`"last_restart":"2026-11-24T20:00:00Z","started":"2026-11-24T20:00:00Z","crash_restarts":1,` +
		`"last_exit":{"reason":"exit status 1","at":"2026-11-24T20:00:00Z"},"mailbox":3,"restart":"transient","shutdown":"1m30s","significant":true},` +
		`{"path":"shop/jobs","name":"jobs","type":"supervisor","kind":"echo","strategy":"one_for_one","state":"stopped","restarts":0,` +
		`"crash_restarts":0,"mailbox":0,"restart":"permanent","shutdown":"infinity","dynamic":true,"max_children":5}]}`
	if string(got) != want {
		t.Errorf("JSON:\n got %s\nwant %s", got, want)
	}
	var back Node
	if err := json.Unmarshal(got, &back); err != nil || back.Find("shop/web").OSPid != 4711 || back.Find("shop/jobs").Kind != "echo" {
		t.Errorf("read back: %v %+v", err, back)
	}
}

func TestFind(t *testing.T) {
	root := &Node{Path: "a", Children: []*Node{
		{Path: "a/b", Children: []*Node{{Path: "a/b/c"}}},
		{Path: "a/bc", Children: []*Node{{Path: "a/bc/d"}}},
	}}
	for _, path := range []string{"a", "a/b", "a/b/c", "a/bc", "a/bc/d"} {
		if n := root.Find(path); n == nil || n.Path != path {
			t.Errorf("Find(%q) = %+v", path, n)
		}
	}
	for _, path := range []string{"", "a/", "a/x", "a/b/d", "b"} {
		if n := root.Find(path); n != nil {
			t.Errorf("Find(%q) = %s, want nil", path, n.Path)
		}
	}
	var nilNode *Node
	if nilNode.Find("a") != nil {
		t.Error("Find on nil")
	}
	var order []string
	root.Walk(func(n *Node) { order = append(order, n.Path) })
	if got := len(order); got != 5 || order[1] != "a/b" || order[3] != "a/bc" {
		t.Errorf("Walk order %v", order)
	}
}
