package runtime

// Pid identifies a process. The zero Pid names no process.
type Pid struct{ p *proc }

// Process is a running process's handle on itself: the value its function
// receives. It is only to be used from that process's own goroutine.
type Process struct{ p *proc }

type proc struct{ id uint64 }
