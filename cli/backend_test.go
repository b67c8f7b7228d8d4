package cli

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/otpctl/otpctl/loader"
	"github.com/otpctl/otpctl/runtime"
)

func TestToNode(t *testing.T) {
	at := time.Date(2026, 11, 24, 20, 0, 0, 0, time.UTC)
	n := &loader.Node{
		Path: "shop", Name: "shop", Type: runtime.SupervisorChild, Kind: "one_for_one", Strategy: "one_for_one",
		State: runtime.StateRunning, Started: at, Restart: runtime.Permanent, Shutdown: runtime.Infinity,
		Budget: runtime.Budget{Used: 1, Max: 3, Period: time.Minute},
		Children: []*loader.Node{
			{Path: "shop/web", Name: "web", Type: runtime.Worker, Kind: "web", State: runtime.StateRunning, OSPid: 4711,
				Restarts: 2, LastRestart: at, Started: at, Mailbox: 3, Restart: runtime.Transient, Shutdown: runtime.ShutdownPolicy(90 * time.Second)},
			{Path: "shop/jobs", Name: "jobs", Type: runtime.SupervisorChild, Kind: loader.KindDynamic, Strategy: "one_for_one",
				State: runtime.StateStopped, Dynamic: true, Template: "echo", MaxChildren: 5, Shutdown: runtime.Infinity},
		},
	}
	got, err := json.Marshal(toNode(n))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"path":"shop","name":"shop","type":"supervisor","strategy":"one_for_one","state":"running","restarts":0,` +
		`"started":"2026-11-24T20:00:00Z","mailbox":0,"restart":"permanent","shutdown":"infinity",` +
		`"budget":{"used":1,"max":3,"period":"1m"},"children":[` +
		`{"path":"shop/web","name":"web","type":"worker","kind":"web","state":"running","os_pid":4711,"restarts":2,` +
		`"last_restart":"2026-11-24T20:00:00Z","started":"2026-11-24T20:00:00Z","mailbox":3,"restart":"transient","shutdown":"1m30s"},` +
		`{"path":"shop/jobs","name":"jobs","type":"supervisor","kind":"echo","strategy":"one_for_one","state":"stopped","restarts":0,` +
		`"mailbox":0,"restart":"permanent","shutdown":"infinity","dynamic":true,"max_children":5}]}`
	if string(got) != want {
		t.Errorf("toNode:\n got %s\nwant %s", got, want)
	}
}
