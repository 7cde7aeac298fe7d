package dbt

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// wireEnd is one end of a test network: datagrams sent from it land in
// the other end's inbox.
type wireEnd struct {
	addr  uint32
	peer  *wireEnd
	inbox []Datagram
	sent  int
}

func (w *wireEnd) Addr() uint32    { return w.addr }
func (w *wireEnd) MaxPayload() int { return 1472 }
func (w *wireEnd) Send(d Datagram) bool {
	d.Data = append([]byte(nil), d.Data...)
	w.peer.inbox = append(w.peer.inbox, d)
	w.sent++
	return true
}
func (w *wireEnd) Receive() (Datagram, bool) {
	if len(w.inbox) == 0 {
		return Datagram{}, false
	}
	d := w.inbox[0]
	w.inbox = w.inbox[1:]
	return d, true
}

type netCase struct{ id, port, requests, seed string }

func readNetCases(t *testing.T) []netCase {
	data, err := os.ReadFile("../workloads/netcases.txt")
	require.NoError(t, err)
	var out []netCase
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && !strings.HasPrefix(f[0], "#") {
			out = append(out, netCase{f[0], f[1], f[2], f[3]})
		}
	}
	require.NotEmpty(t, out)
	return out
}

// netGuest is a guest on a wire end.
type netGuest struct {
	m        *Machine
	out, err bytes.Buffer
	res      Result
	exited   bool
}

func startNetGuest(t *testing.T, dev NetDevice, name string, args ...string) *netGuest {
	g := &netGuest{}
	prog, err := LoadProgram(readWorkload(t, name))
	require.NoError(t, err)
	path := filepath.Join(workloadsDir, name)
	p, err := NewProcess(prog, ProcessConfig{Path: path, Argv: append([]string{path}, args...), Seed: 1,
		Stdout: &g.out, Stderr: &g.err, Net: dev})
	require.NoError(t, err)
	g.m, err = NewMachine(p, MachineConfig{}, &g.err)
	require.NoError(t, err)
	return g
}

// TestKeyValuePairMatchesQemu: kvserver and kvclient, each on a machine of
// its own, joined by a wire, exchange the requests they exchange over the
// loopback address under qemu-riscv64 and print what they print there
// (workloads/netcases.txt, workloads/expected).
func TestKeyValuePairMatchesQemu(t *testing.T) {
	for _, c := range readNetCases(t) {
		t.Run(c.id, func(t *testing.T) {
			a, b := &wireEnd{addr: 0x0a000001}, &wireEnd{addr: 0x0a000002}
			a.peer, b.peer = b, a
			server := startNetGuest(t, a, "kvserver", c.port, c.requests)
			client := startNetGuest(t, b, "kvclient", "10.0.0.1", c.port, c.requests, c.seed)
			// Run them in turns of a million instructions; a guest blocked
			// with nothing to read waits (its clock jumps to its timeout
			// when both wait).
			for step := uint64(1); !(server.exited && client.exited); step++ {
				require.Less(t, step, uint64(100000), "no progress")
				progressed := false
				for _, g := range []*netGuest{server, client} {
					if g.exited {
						continue
					}
					if blocked, _ := g.m.Blocked(); blocked && len(g.m.proc.cfg.Net.(*wireEnd).inbox) == 0 {
						continue
					}
					before := g.m.Stats().GuestInsts
					res, exited, err := g.m.RunUntil(g.m.now() + 1_000_000)
					require.NoError(t, err)
					g.res, g.exited = res, exited
					progressed = progressed || g.m.Stats().GuestInsts != before || exited
				}
				if step == 5 && !client.exited {
					// Move the client to a fresh machine from a snapshot, as a
					// failover would: sockets, a call it waits in and all.
					client.m = resumeElsewhere(t, client, b, "kvclient", "10.0.0.1", c.port, c.requests, c.seed)
				}
				if !progressed {
					// Both wait: the earlier timeout passes.
					var first *netGuest
					for _, g := range []*netGuest{server, client} {
						if _, d := g.m.Blocked(); !g.exited && d != sim.MaxTime && (first == nil || d < first.m.proc.Deadline()) {
							first = g
						}
					}
					require.NotNil(t, first, "both guests wait for ever")
					first.m.advanceClock(first.m.proc.Deadline())
				}
			}
			for _, g := range []struct {
				g    *netGuest
				file string
			}{{server, c.id + ".server.out"}, {client, c.id + ".client.out"}} {
				want, err := os.ReadFile(filepath.Join("../workloads/expected", g.file))
				require.NoError(t, err)
				require.Equal(t, string(want), g.g.out.String(), "%s (stderr %s)", g.file, g.g.err.String())
				require.Zero(t, g.g.res.ExitCode, g.file)
			}
			require.Positive(t, server.m.proc.Calls()["recvfrom"])
			require.Positive(t, server.m.proc.Calls()["ppoll"])
			require.Positive(t, client.m.proc.Calls()["sendmsg"])
			require.Positive(t, client.m.proc.Calls()["epoll_pwait"])
		})
	}
}

// resumeElsewhere snapshots g, copies its memory to a fresh backing and
// resumes it there on dev.
func resumeElsewhere(t *testing.T, g *netGuest, dev NetDevice, name string, args ...string) *Machine {
	snap, err := g.m.Snapshot()
	require.NoError(t, err)
	mem, err := NewIdentityBacking()
	require.NoError(t, err)
	g.m.proc.AS.mem.phys.Copy(mem.phys, 0, 0, GuestSpaceTop)
	path := filepath.Join(workloadsDir, name)
	m, err := Resume(g.m.proc.Prog, snap, ProcessConfig{Path: path, Argv: append([]string{path}, args...), Seed: 7,
		Stdout: &g.out, Stderr: &g.err, Backing: mem, Net: dev}, MachineConfig{}, &g.err)
	require.NoError(t, err)
	return m
}

// sockaddr is a struct sockaddr_in for ip:port.
func sockaddr(ip uint32, port uint16) []byte {
	b := make([]byte, 16)
	b[0] = afInet
	b[2], b[3] = byte(port>>8), byte(port)
	b[4], b[5], b[6], b[7] = byte(ip>>24), byte(ip>>16), byte(ip>>8), byte(ip)
	return b
}

// TestSocketCalls: the socket calls' answers, as Linux gives them, on the
// loopback address of a process without a network device.
func TestSocketCalls(t *testing.T) {
	r := newSysRig(t, "")
	require.Equal(t, -int64(EAFNOSUPPORT), r.call(t, 198, 10, sockDgram, 0), "AF_INET6")
	require.Equal(t, -int64(EPROTONOSUPPORT), r.call(t, 198, afInet, 1, 0), "SOCK_STREAM")
	s := r.call(t, 198, afInet, sockDgram, 0)
	require.Positive(t, s)
	c := r.call(t, 198, afInet, sockDgram|sockNonblock, 0)
	require.Equal(t, -int64(ENOTSOCK), r.call(t, 200, 1, r.put(t, 0, sockaddr(0, 7000)), 16), "bind on stdout")
	require.Zero(t, r.call(t, 200, uint64(s), r.put(t, 0, sockaddr(0, 7000)), 16))
	require.Equal(t, -int64(EINVAL), r.call(t, 200, uint64(s), r.put(t, 0, sockaddr(0, 7001)), 16), "bound already")
	require.Equal(t, -int64(EADDRINUSE), r.call(t, 200, uint64(c), r.put(t, 0, sockaddr(0, 7000)), 16))
	require.Equal(t, -int64(EADDRNOTAVAIL), r.call(t, 200, uint64(c), r.put(t, 0, sockaddr(0x0a000009, 7002)), 16))
	buf := r.scratch + 1024
	require.Equal(t, -int64(EAGAIN), r.call(t, 207, uint64(c), buf, 100, 0, 0, 0), "non-blocking, nothing queued")
	require.Equal(t, -int64(EAGAIN), r.call(t, 207, uint64(s), buf, 100, msgDontwait, 0, 0), "MSG_DONTWAIT")
	// c sends to s over loopback: c is bound to an ephemeral port.
	r.put(t, 2048, []byte("ping!"))
	require.Equal(t, int64(5), r.call(t, 206, uint64(c), r.scratch+2048, 5, 0, r.put(t, 0, sockaddr(loopback, 7000)), 16))
	from, flen := r.scratch+64, r.put(t, 96, []byte{16, 0, 0, 0})
	require.Equal(t, int64(3), r.call(t, 207, uint64(s), buf, 3, 0, from, flen), "truncated to the buffer")
	require.Equal(t, "pin", string(r.get(t, buf, 3)))
	require.Equal(t, sockaddr(loopback, ephemeralLow), r.get(t, from, 16))
	// ppoll: s has nothing now, c is writable; a zero timeout returns at once.
	fds := r.put(t, 256, []byte{byte(s), 0, 0, 0, pollIn, 0, 0, 0, byte(c), 0, 0, 0, pollOut, 0, 0, 0})
	zero := r.put(t, 300, make([]byte, 16))
	require.Equal(t, int64(1), r.call(t, 73, fds, 2, zero))
	require.Equal(t, []byte{0, 0, pollOut, 0}, append(r.get(t, fds+6, 2), r.get(t, fds+14, 2)...))
	// A blocking receive with nothing queued waits.
	var a [6]uint64
	a[0], a[1], a[2] = uint64(s), buf, 100
	_, err := r.p.Syscall(207, a, 0x1000)
	require.ErrorIs(t, err, errBlocked)
	// No peer: EDESTADDRREQ; no device: ENETUNREACH.
	require.Equal(t, -int64(EDESTADDRREQ), r.call(t, 206, uint64(c), buf, 1, 0, 0, 0))
	require.Equal(t, -int64(ENETUNREACH), r.call(t, 206, uint64(c), buf, 1, 0, r.put(t, 0, sockaddr(0x0a000001, 7000)), 16))
	// epoll: c watched for input, nothing ready, zero timeout.
	ep := r.call(t, 20, 0)
	ev := r.put(t, 400, []byte{pollIn, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0})
	require.Zero(t, r.call(t, 21, uint64(ep), 1, uint64(c), ev))
	require.Equal(t, -int64(EEXIST), r.call(t, 21, uint64(ep), 1, uint64(c), ev))
	require.Zero(t, r.call(t, 22, uint64(ep), r.scratch+512, 4, 0))
	require.Zero(t, r.call(t, 57, uint64(s)))
	require.Zero(t, r.call(t, 57, uint64(ep)))
}

// TestSocketCallsReviewed: what Linux does that is easy to get wrong — a
// blocking receive without a timeout waits for ever, MSG_PEEK leaves the
// datagram queued, a closed descriptor leaves its epoll sets, an address
// given to sendto overrides the connected peer, and a socket's queue is
// bounded.
func TestSocketCallsReviewed(t *testing.T) {
	r := newSysRig(t, "")
	s := r.call(t, 198, afInet, sockDgram, 0)
	require.Zero(t, r.call(t, 200, uint64(s), r.put(t, 0, sockaddr(0, 7000)), 16))
	var a [6]uint64
	a[0], a[1], a[2] = uint64(s), r.scratch+1024, 100
	_, err := r.p.Syscall(207, a, 0x1000)
	require.ErrorIs(t, err, errBlocked)
	require.Equal(t, sim.MaxTime, r.p.Deadline(), "waits for ever: no timeout")
	r.p.deadline = 0

	// Connected to port 9 of loopback, yet sendto to s's port 7000 works.
	c := r.call(t, 198, afInet, sockDgram, 0)
	require.Zero(t, r.call(t, 203, uint64(c), r.put(t, 0, sockaddr(loopback, 9)), 16))
	r.put(t, 2048, []byte("abc"))
	require.Equal(t, int64(3), r.call(t, 206, uint64(c), r.scratch+2048, 3, 0, r.put(t, 0, sockaddr(loopback, 7000)), 16))
	require.Equal(t, -int64(EINVAL), r.call(t, 206, uint64(c), r.scratch+2048, 3, 0, r.put(t, 0, sockaddr(loopback, 0)), 16))
	// MSG_PEEK twice, then a read: the same datagram three times.
	for range 2 {
		require.Equal(t, int64(3), r.call(t, 207, uint64(s), r.scratch+1024, 10, msgPeek, 0, 0))
	}
	require.Equal(t, int64(3), r.call(t, 207, uint64(s), r.scratch+1024, 10, 0, 0, 0))
	require.Equal(t, -int64(EAGAIN), r.call(t, 207, uint64(s), r.scratch+1024, 10, msgDontwait, 0, 0))

	// epoll: watch c, close it; the descriptor's number, reused, is not
	// watched.
	ep := r.call(t, 20, 0)
	ev := r.put(t, 400, []byte{pollIn, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0})
	require.Zero(t, r.call(t, 21, uint64(ep), 1, uint64(c), ev))
	require.Zero(t, r.call(t, 57, uint64(c)))
	c2 := r.call(t, 198, afInet, sockDgram, 0)
	require.Equal(t, c, c2)
	require.Zero(t, r.call(t, 21, uint64(ep), 1, uint64(c2), ev), "not watched any more")

	// The queue holds at most rcvQueueBytes; the rest is dropped.
	big := make([]byte, 60000)
	r.p.AS.Write(r.scratch, big[:4096])
	for range 5 {
		r.p.deliver(Datagram{Src: loopback, DPort: 7000, Data: big})
	}
	require.Equal(t, 3, len(r.p.files[s].sock.queue), "three of 60000 bytes fit 212992")
	require.Equal(t, uint64(2), r.p.NetDropped)
	// A datagram beyond UDP's 65507 bytes is refused.
	require.Equal(t, -int64(EMSGSIZE), r.call(t, 206, uint64(c2), r.scratch, 70000, 0, r.put(t, 0, sockaddr(loopback, 7000)), 16))
}

// TestResumeKeepsStalePages: a page unmapped before a snapshot and mapped
// again after the resume reads as zeros, as it does on the primary.
func TestResumeKeepsStalePages(t *testing.T) {
	r := newImageRun(t, 64<<10, diffCase{id: "recursion", prog: "recursion"})
	as := r.m.proc.AS
	at, e := as.Mmap(0, 2*GuestPageSize, PermR|PermW, MapPrivate|MapAnonymous, "anon")
	require.Zero(t, e)
	require.Zero(t, as.Write(at+GuestPageSize, []byte("SECRET")))
	require.Zero(t, as.Munmap(at+GuestPageSize, GuestPageSize)) // its chunk stays: at is still mapped
	snap, err := r.m.Snapshot()
	require.NoError(t, err)
	require.NotEmpty(t, snap.Stale)
	phys, err := memory.NewPhysical(512 << 20)
	require.NoError(t, err)
	r.phys.Copy(phys, testImageBase, testImageBase, testImageSize)
	mem, err := NewImageBacking(phys, testImageBase, testImageSize)
	require.NoError(t, err)
	m, err := Resume(r.prog, snap, ProcessConfig{Path: "recursion", Argv: []string{"recursion"}, Backing: mem}, imageConfig(64<<10), nil)
	require.NoError(t, err)
	got, e := m.proc.AS.Mmap(at+GuestPageSize, GuestPageSize, PermR|PermW, MapPrivate|MapAnonymous|MapFixed, "anon")
	require.Zero(t, e)
	require.Equal(t, at+GuestPageSize, got)
	b := make([]byte, 6)
	require.Zero(t, m.proc.AS.Read(got, b))
	require.Equal(t, make([]byte, 6), b)
}
