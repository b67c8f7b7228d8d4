// Package control is otpctl's control API: HTTP and JSON over a Unix socket.
// `otpctl run` serves it (Server) for the tree it runs; every client command
// (`otpctl tree`, `kill`, `call`, …) is a Client call.
//
// The socket lives at $XDG_RUNTIME_DIR/otpctl/NAME.sock, or
// /tmp/otpctl-UID/NAME.sock without XDG_RUNTIME_DIR (SocketPath); its folder
// is made 0700 and the socket 0600. A folder that exists is never changed:
// the default one must be the effective user's own 0700 folder, any other
// one closed to other users' writes (Listen, CheckSocket); clients check
// the same before they connect. Listen replaces a stale socket of the
// user's left by a dead instance, refuses one that answers, and removes
// nothing else.
//
// Endpoints (all JSON; errors are {"error": "...", "code": "..."} with a 4xx
// or 5xx status):
//
//	GET  /v1/tree                          the live tree (Node)
//	GET  /v1/events[?follow=1][&since=N]   the event log, one JSON Event per line
//	GET  /v1/events?sse=1[&since=N]        the same as server-sent events, following (the web page's)
//	GET  /v1/wait?path=P&state=S&timeout=D wait until P is in state S (408 on timeout)
//	GET  /v1/logs?path=P[&n=N][&since=D][&follow=1] the kept output lines of P (its subtree
//	                                       merged for a supervisor), one JSON LogLine per line
//	POST /v1/kill     {"path","reason"}    make the process at path exit with reason
//	POST /v1/stop     {"path"}             terminate a child (terminate_child)
//	POST /v1/start    {"path","name","args"} restart a stopped child, or start one on a dynamic supervisor
//	POST /v1/restart  {"path"}             stop, then start a child
//	POST /v1/call     {"path","request","timeout"} call an actor worker; its reply
//	POST /v1/reload                        reload the tree files; the plan applied
//	POST /v1/shutdown                      stop the tree and exit
//	POST /v1/scale    {"path","size"}      resize a pool in place; {"path","old","size"}
//	GET  /healthz                          liveness: 200 {"status":"ok"}; 503 once the tree is stopping
//	GET  /readyz                           readiness: 200 when every node is ready (live.Node.Ready);
//	                                       else 503 with the nodes that are not (HealthReply)
//	GET  /                                 the web page of the live tree (its files under /ui/)
//	GET  /metrics                          Prometheus text format (not JSON)
//
// GET /metrics reads the live tree at scrape time for its gauges and the
// EventLog's counts for its counters (counted on Append, in O(1)); a
// dynamic supervisor's children are summed under path="SUP/*", so the
// series are bounded by the tree files' nodes. Each Server has its own
// Prometheus registry, with Go's and the process's collectors.
//
// ServeTCP serves the same API on a TCP listener (`otpctl run --http`)
// behind RequireToken: every request that can change the tree needs
// "Authorization: Bearer TOKEN", and so does every request when the
// listener is not on loopback (IsLoopback); 401 unauthorized otherwise. The
// token (NewToken) is kept 0600 beside the socket (TokenFile,
// WriteTokenFile). The socket itself needs no token.
//
// Every input is bounded: a body by MaxBodyBytes, each text field by
// MaxFieldBytes, the open event streams by MaxStreams and the pending waits
// by MaxWaits (503 busy past them). An event stream reads the EventLog by
// sequence number, a batch at a time; a reader that falls behind the kept
// events, or does not take a write for the server's WriteTimeout, is cut
// off with a last line {"error": "...", "code": "slow_follower"}.
package control
