package dbt

import (
	"encoding/binary"
	"errors"
	"sort"

	"github.com/twinsim/twinsim/sim"
)

// Datagram is a UDP datagram between two IPv4 endpoints (addresses in
// host order: 10.0.0.1 is 0x0a000001).
type Datagram struct {
	Src, Dst     uint32
	SPort, DPort uint16
	Data         []byte
	// Seq is the device's own number for a received datagram (0: none),
	// carried in the socket's queue and given back when the guest reads
	// it (Reader).
	Seq uint64
}

// Reader is a NetDevice that is told when the guest reads a datagram it
// delivered (takes it off its socket's queue): the input the guest is
// serving.
type Reader interface {
	Read(d Datagram)
}

// NetDevice is the network under a guest's sockets: in a VM, the
// paravirtual driver of its virtual function, which builds frames into the
// VF's transmit ring in the VM's image, rings the doorbell, and takes
// frames off the receive ring.
type NetDevice interface {
	// Addr is the guest's IPv4 address.
	Addr() uint32
	// MaxPayload is the largest UDP payload a datagram may carry (the
	// MTU less the IPv4 and UDP headers).
	MaxPayload() int
	// Send transmits a datagram from the guest, and false if the device
	// cannot take it now (its transmit ring is full; the caller waits).
	Send(d Datagram) bool
	// Receive returns the next datagram the device has received for the
	// guest, if any.
	Receive() (Datagram, bool)
}

// errBlocked is a system call's answer when it must wait — for a datagram,
// for room to send, or until a timeout — before it can complete; the
// machine stops and retries the call when its device wakes it
// (Machine.Wake) or its deadline passes.
var errBlocked = errors.New("blocked")

// Linux socket constants (include/linux/socket.h, net.h, in.h, errno.h).
const (
	afInet       = 2
	sockDgram    = 2
	sockNonblock = 0o4000
	sockCloexec  = 0o2000000
	msgDontwait  = 0x40
	msgTrunc     = 0x20
	msgPeek      = 0x2
	afUnspec     = 0
	soType       = 3 // SOL_SOCKET's SO_TYPE
	// maxUDPPayload is the largest UDP payload over IPv4; rcvQueueBytes a
	// socket's receive queue (Linux's rmem_default), beyond which
	// datagrams are dropped.
	maxUDPPayload = 65507
	rcvQueueBytes = 212992
	sockaddrInLen = 16
	ephemeralLow  = 49152

	EAFNOSUPPORT    Errno = 97
	EPROTONOSUPPORT Errno = 93
	ENOTSOCK        Errno = 88
	EDESTADDRREQ    Errno = 89
	EMSGSIZE        Errno = 90
	EOPNOTSUPP      Errno = 95
	EADDRINUSE      Errno = 98
	EADDRNOTAVAIL   Errno = 99
	ENETUNREACH     Errno = 101
	EISCONN         Errno = 106
	ENOTCONN        Errno = 107

	loopback = 0x7f000001
)

// socket is a UDP socket: its bound port, its peer (connect) and the
// datagrams received and not yet read.
type socket struct {
	nonblock bool
	port     uint16 // 0: not bound
	peer     uint32 // connected peer's address and port (peerPort 0: none)
	peerPort uint16
	queue    []Datagram
	queued   int // bytes of data in queue
}

// epoll is an epoll instance: the descriptors it watches, with the events
// and data the guest registered.
type epoll struct {
	watch map[int]epollWatch
}

type epollWatch struct {
	events uint32
	data   uint64
}

// poll and epoll event bits.
const (
	pollIn   = 0x1
	pollOut  = 0x4
	pollErr  = 0x8
	pollNval = 0x20
)

// netCall handles the socket, poll and epoll system calls; ok is false
// for any other call.
func (p *Process) netCall(num uint64, a [6]uint64) (ret uint64, ok bool, err error) {
	switch num {
	case 198: // socket
		return p.socket(int(a[0]), int(a[1]), int(a[2])), true, nil
	case 200: // bind
		return p.bind(int64(a[0]), a[1], a[2]), true, nil
	case 203: // connect
		return p.connect(int64(a[0]), a[1], a[2]), true, nil
	case 204, 205: // getsockname, getpeername
		return p.sockname(num == 205, int64(a[0]), a[1], a[2]), true, nil
	case 201: // listen: not for datagram sockets
		if _, e := p.sock(int64(a[0])); e != 0 {
			return neg(e), true, nil
		}
		return neg(EOPNOTSUPP), true, nil
	case 206: // sendto
		return p.sendto(int64(a[0]), [][2]uint64{{a[1], a[2]}}, int(a[3]), a[4], a[5])
	case 207: // recvfrom
		return p.recvfrom(int64(a[0]), [][2]uint64{{a[1], a[2]}}, int(a[3]), a[4], a[5], 0)
	case 211: // sendmsg
		return p.msg(true, int64(a[0]), a[1], int(a[2]))
	case 212: // recvmsg
		return p.msg(false, int64(a[0]), a[1], int(a[2]))
	case 208: // setsockopt: accepted, without effect
		if _, e := p.sock(int64(a[0])); e != 0 {
			return neg(e), true, nil
		}
		return 0, true, nil
	case 209: // getsockopt: SO_TYPE is SOCK_DGRAM, every other option reads as 0
		return p.getsockopt(int64(a[0]), int(a[1]), int(a[2]), a[3], a[4]), true, nil
	case 210: // shutdown
		if _, e := p.sock(int64(a[0])); e != 0 {
			return neg(e), true, nil
		}
		return 0, true, nil
	case 25: // fcntl
		return p.fcntl(int64(a[0]), int(a[1]), a[2]), true, nil
	case 73: // ppoll
		return p.ppoll(a[0], a[1], a[2])
	case 20: // epoll_create1
		if a[0]&^sockCloexec != 0 {
			return neg(EINVAL), true, nil
		}
		fd, e := p.addFile(&guestFile{name: "anon_inode:[eventpoll]", stdNum: -1, ep: &epoll{watch: map[int]epollWatch{}}})
		if e != 0 {
			return neg(e), true, nil
		}
		return uint64(fd), true, nil
	case 21: // epoll_ctl
		return p.epollCtl(int64(a[0]), int(a[1]), int64(a[2]), a[3]), true, nil
	case 22: // epoll_pwait
		return p.epollWait(int64(a[0]), a[1], int(int32(a[2])), int(int32(a[3])))
	}
	return 0, false, nil
}

func (p *Process) getsockopt(fd int64, level, opt int, val, lenp uint64) uint64 {
	if _, e := p.sock(fd); e != 0 {
		return neg(e)
	}
	var l [4]byte
	if e := p.AS.Read(lenp, l[:]); e != 0 {
		return neg(e)
	}
	var v [4]byte
	if level == 1 && opt == soType { // SOL_SOCKET
		binary.LittleEndian.PutUint32(v[:], sockDgram)
	}
	n := min(uint64(binary.LittleEndian.Uint32(l[:])), 4)
	if e := p.AS.Write(val, v[:n]); e != 0 {
		return neg(e)
	}
	binary.LittleEndian.PutUint32(l[:], uint32(n))
	return errnoOr(p.AS.Write(lenp, l[:]))
}

func (p *Process) sock(fd int64) (*socket, Errno) {
	f, e := p.file(fd)
	if e != 0 {
		return nil, e
	}
	if f.sock == nil {
		return nil, ENOTSOCK
	}
	return f.sock, 0
}

func (p *Process) socket(domain, typ, proto int) uint64 {
	switch {
	case domain != afInet:
		return neg(EAFNOSUPPORT)
	case typ&^(sockNonblock|sockCloexec) != sockDgram || (proto != 0 && proto != 17):
		return neg(EPROTONOSUPPORT) // UDP only: no stream sockets
	}
	fd, e := p.addFile(&guestFile{name: "socket:[udp]", stdNum: -1, sock: &socket{nonblock: typ&sockNonblock != 0}})
	if e != 0 {
		return neg(e)
	}
	return uint64(fd)
}

// readSockaddr reads a struct sockaddr_in of length n at addr.
func (p *Process) readSockaddr(addr, n uint64) (ip uint32, port uint16, e Errno) {
	if n < sockaddrInLen {
		return 0, 0, EINVAL
	}
	var b [sockaddrInLen]byte
	if e := p.AS.Read(addr, b[:]); e != 0 {
		return 0, 0, e
	}
	if binary.LittleEndian.Uint16(b[0:]) != afInet {
		return 0, 0, EAFNOSUPPORT
	}
	return binary.BigEndian.Uint32(b[4:]), binary.BigEndian.Uint16(b[2:]), 0
}

// writeSockaddr writes a sockaddr_in at addr, at most *lenp bytes, and
// sets *lenp to its full length (16), as Linux does.
func (p *Process) writeSockaddr(addr, lenp uint64, ip uint32, port uint16) Errno {
	if addr == 0 {
		return 0
	}
	var l [4]byte
	if e := p.AS.Read(lenp, l[:]); e != 0 {
		return e
	}
	var b [sockaddrInLen]byte
	binary.LittleEndian.PutUint16(b[0:], afInet)
	binary.BigEndian.PutUint16(b[2:], port)
	binary.BigEndian.PutUint32(b[4:], ip)
	if e := p.AS.Write(addr, b[:min(uint64(binary.LittleEndian.Uint32(l[:])), sockaddrInLen)]); e != 0 {
		return e
	}
	binary.LittleEndian.PutUint32(l[:], sockaddrInLen)
	return p.AS.Write(lenp, l[:])
}

func (p *Process) myAddr() uint32 {
	if p.cfg.Net == nil {
		return loopback
	}
	return p.cfg.Net.Addr()
}

// portUsed reports whether a socket is bound to port.
func (p *Process) portUsed(port uint16) bool {
	for _, f := range p.files {
		if f != nil && f.sock != nil && f.sock.port == port {
			return true
		}
	}
	return false
}

func (p *Process) bind(fd int64, addr, n uint64) uint64 {
	s, e := p.sock(fd)
	if e != 0 {
		return neg(e)
	}
	ip, port, e := p.readSockaddr(addr, n)
	switch {
	case e != 0:
		return neg(e)
	case s.port != 0:
		return neg(EINVAL)
	case ip != 0 && ip != loopback && ip != p.myAddr():
		return neg(EADDRNOTAVAIL)
	case port != 0 && p.portUsed(port):
		return neg(EADDRINUSE)
	}
	if port == 0 {
		return errnoOr(p.autobind(s))
	}
	s.port = port
	return 0
}

// autobind gives s the lowest free ephemeral port.
func (p *Process) autobind(s *socket) Errno {
	for port := uint32(ephemeralLow); port <= 65535; port++ {
		if !p.portUsed(uint16(port)) {
			s.port = uint16(port)
			return 0
		}
	}
	return EADDRINUSE
}

func (p *Process) connect(fd int64, addr, n uint64) uint64 {
	s, e := p.sock(fd)
	if e != 0 {
		return neg(e)
	}
	var fam [2]byte
	if n >= 2 && p.AS.Read(addr, fam[:]) == 0 && binary.LittleEndian.Uint16(fam[:]) == afUnspec {
		s.peer, s.peerPort = 0, 0 // AF_UNSPEC: disconnect
		return 0
	}
	ip, port, e := p.readSockaddr(addr, n)
	if e != 0 {
		return neg(e)
	}
	if s.port == 0 {
		if e := p.autobind(s); e != 0 {
			return neg(e)
		}
	}
	s.peer, s.peerPort = ip, port
	return 0
}

func (p *Process) sockname(peer bool, fd int64, addr, lenp uint64) uint64 {
	s, e := p.sock(fd)
	if e != 0 {
		return neg(e)
	}
	if peer {
		if s.peerPort == 0 {
			return neg(ENOTCONN)
		}
		return errnoOr(p.writeSockaddr(addr, lenp, s.peer, s.peerPort))
	}
	return errnoOr(p.writeSockaddr(addr, lenp, 0, s.port)) // bound to INADDR_ANY
}

// gather reads the bytes of the iovecs (base, length) of guest memory.
func (p *Process) gather(iov [][2]uint64) ([]byte, Errno) {
	var total uint64
	for _, v := range iov {
		total += v[1]
		if v[1] > maxIO || total > maxIO {
			return nil, EMSGSIZE
		}
	}
	out := make([]byte, 0, total)
	for _, v := range iov {
		b := make([]byte, v[1])
		if e := p.AS.Read(v[0], b); e != 0 {
			return nil, e
		}
		out = append(out, b...)
	}
	return out, 0
}

// scatter writes data into the iovecs and returns the bytes written.
func (p *Process) scatter(iov [][2]uint64, data []byte) (uint64, Errno) {
	var done uint64
	for _, v := range iov {
		n := min(v[1], uint64(len(data))-done)
		if e := p.AS.Write(v[0], data[done:done+n]); e != 0 {
			return done, e
		}
		done += n
	}
	return done, 0
}

func (p *Process) sendto(fd int64, iov [][2]uint64, flags int, addr, alen uint64) (uint64, bool, error) {
	s, e := p.sock(fd)
	if e != 0 {
		return neg(e), true, nil
	}
	ip, port := s.peer, s.peerPort
	if addr != 0 {
		// An address given overrides a connected peer, as Linux's UDP does.
		if ip, port, e = p.readSockaddr(addr, alen); e != 0 {
			return neg(e), true, nil
		}
		if port == 0 {
			return neg(EINVAL), true, nil
		}
	}
	if port == 0 {
		return neg(EDESTADDRREQ), true, nil
	}
	var total uint64
	for _, v := range iov {
		if total += v[1]; v[1] > maxUDPPayload || total > maxUDPPayload {
			return neg(EMSGSIZE), true, nil // UDP carries at most 65507 bytes over IPv4
		}
	}
	data, e := p.gather(iov)
	if e != 0 {
		return neg(e), true, nil
	}
	if s.port == 0 {
		if e := p.autobind(s); e != 0 {
			return neg(e), true, nil
		}
	}
	d := Datagram{Src: p.myAddr(), Dst: ip, SPort: s.port, DPort: port, Data: data}
	if ip == loopback || ip == p.myAddr() {
		d.Src = ip
		p.deliver(d) // to this process's own socket, if one is bound there
		return uint64(len(data)), true, nil
	}
	dev := p.cfg.Net
	switch {
	case dev == nil:
		return neg(ENETUNREACH), true, nil
	case len(data) > dev.MaxPayload():
		return neg(EMSGSIZE), true, nil
	case !dev.Send(d):
		if s.nonblock || flags&msgDontwait != 0 {
			return neg(EAGAIN), true, nil
		}
		return 0, true, p.block()
	}
	p.deadline = 0
	return uint64(len(data)), true, nil
}

// block is a socket call's answer when it must wait with no timeout: until
// its device wakes the guest.
func (p *Process) block() error {
	if p.deadline == 0 {
		p.deadline = sim.MaxTime
	}
	return errBlocked
}

// deliver puts a datagram in the queue of the socket bound to its port
// (and, if connected, to the datagram's sender); with none, or with the
// socket's queue full (rcvQueueBytes), it is dropped as Linux drops it.
func (p *Process) deliver(d Datagram) {
	for _, f := range p.files {
		k := f.sockBoundTo(d.DPort)
		if k == nil || k.peerPort != 0 && (d.Src != k.peer || d.SPort != k.peerPort) {
			continue
		}
		if k.queued+len(d.Data) > rcvQueueBytes {
			break
		}
		k.queue = append(k.queue, d)
		k.queued += len(d.Data)
		return
	}
	p.NetDropped++
}

// sockBoundTo returns f's socket if it is bound to port, else nil.
func (f *guestFile) sockBoundTo(port uint16) *socket {
	if f == nil || f.sock == nil || f.sock.port != port {
		return nil
	}
	return f.sock
}

// pump takes every datagram the device holds into the sockets' queues.
func (p *Process) pump() {
	if p.cfg.Net == nil {
		return
	}
	for {
		d, ok := p.cfg.Net.Receive()
		if !ok {
			return
		}
		p.deliver(d)
	}
}

func (p *Process) recvfrom(fd int64, iov [][2]uint64, flags int, addr, lenp uint64, msgFlags uint64) (uint64, bool, error) {
	s, e := p.sock(fd)
	if e != 0 {
		return neg(e), true, nil
	}
	p.pump()
	if len(s.queue) == 0 {
		if s.nonblock || flags&msgDontwait != 0 {
			return neg(EAGAIN), true, nil
		}
		return 0, true, p.block()
	}
	p.deadline = 0
	d := s.queue[0]
	if flags&msgPeek == 0 {
		s.queue = s.queue[1:]
		s.queued -= len(d.Data)
		if r, ok := p.cfg.Net.(Reader); ok {
			r.Read(d)
		}
	}
	n, e := p.scatter(iov, d.Data)
	if e != 0 {
		return neg(e), true, nil
	}
	if e := p.writeSockaddr(addr, lenp, d.Src, d.SPort); e != 0 {
		return neg(e), true, nil
	}
	if msgFlags != 0 {
		// recvmsg's msg_controllen (no control messages) and msg_flags.
		var b [12]byte
		if n < uint64(len(d.Data)) {
			binary.LittleEndian.PutUint32(b[8:], msgTrunc)
		}
		if e := p.AS.Write(msgFlags-8, b[:]); e != 0 {
			return neg(e), true, nil
		}
	}
	if flags&msgTrunc != 0 {
		return uint64(len(d.Data)), true, nil
	}
	return n, true, nil
}

// msg is sendmsg and recvmsg: struct msghdr (RV64) is name (8), namelen
// (4, padded to 8), iov (8), iovlen (8), control (8), controllen (8),
// flags (4, padded).
func (p *Process) msg(send bool, fd int64, mh uint64, flags int) (uint64, bool, error) {
	var h [56]byte
	if e := p.AS.Read(mh, h[:]); e != 0 {
		return neg(e), true, nil
	}
	name, namelen := binary.LittleEndian.Uint64(h[0:]), uint64(binary.LittleEndian.Uint32(h[8:]))
	iovp, iovlen := binary.LittleEndian.Uint64(h[16:]), binary.LittleEndian.Uint64(h[24:])
	if iovlen > 1024 {
		return neg(EMSGSIZE), true, nil
	}
	iov, e := p.iovecs(iovp, iovlen)
	if e != 0 {
		return neg(e), true, nil
	}
	if send {
		return p.sendto(fd, iov, flags, name, namelen)
	}
	ret, ok, err := p.recvfrom(fd, iov, flags, name, mh+8, mh+48)
	if err == nil && int64(ret) >= 0 && name == 0 {
		var z [4]byte
		p.AS.Write(mh+8, z[:]) // no name asked: namelen 0
	}
	return ret, ok, err
}

func (p *Process) fcntl(fd int64, cmd int, arg uint64) uint64 {
	f, e := p.file(fd)
	if e != 0 {
		return neg(e)
	}
	const fGetfd, fSetfd, fGetfl, fSetfl = 1, 2, 3, 4
	switch cmd {
	case fGetfd, fSetfd:
		return 0
	case fGetfl:
		if f.sock != nil && f.sock.nonblock {
			return 2 | sockNonblock // O_RDWR | O_NONBLOCK
		}
		return 2
	case fSetfl:
		if f.sock != nil {
			f.sock.nonblock = arg&sockNonblock != 0
		}
		return 0
	}
	return neg(EINVAL)
}

// ready returns the poll events descriptor fd has ready of those in
// events: a socket is readable with a datagram queued and always
// writable; other descriptors are always ready; a bad one is POLLNVAL.
func (p *Process) ready(fd int64, events uint32) uint32 {
	f, e := p.file(fd)
	if e != 0 {
		return pollNval
	}
	if f.sock == nil {
		return events & (pollIn | pollOut)
	}
	var r uint32 = pollOut
	if len(f.sock.queue) > 0 {
		r |= pollIn
	}
	return r & (events | pollErr)
}

// wait reports how a call that found nothing ready goes on: with a
// timeout of 0 at once (false), else blocked until the deadline — set on
// the first attempt from timeout (negative: none) — after which it
// returns (false).
func (p *Process) wait(timeout sim.Time, forever bool) (blocked bool) {
	if !forever && timeout == 0 {
		return false
	}
	now := p.now()
	if p.deadline == 0 {
		p.deadline = sim.MaxTime
		if !forever && timeout < sim.MaxTime-now {
			p.deadline = now + timeout
		}
	}
	if now >= p.deadline {
		p.deadline = 0
		return false
	}
	return true
}

// Deadline is when a blocked call times out (sim.MaxTime: never; 0: no
// call is blocked).
func (p *Process) Deadline() sim.Time { return p.deadline }

func (p *Process) ppoll(fds, nfds, tmo uint64) (uint64, bool, error) {
	if nfds > 1024 {
		return neg(EINVAL), true, nil
	}
	forever, timeout := tmo == 0, sim.Time(0)
	if !forever {
		var ts [16]byte
		if e := p.AS.Read(tmo, ts[:]); e != 0 {
			return neg(e), true, nil
		}
		sec, nsec := int64(binary.LittleEndian.Uint64(ts[0:])), int64(binary.LittleEndian.Uint64(ts[8:]))
		if sec < 0 || nsec < 0 || nsec >= 1e9 {
			return neg(EINVAL), true, nil
		}
		timeout = sim.MaxTime // saturated: LONG_MAX seconds is "for ever"
		if sec < int64(sim.MaxTime/sim.Second)-1 {
			timeout = sim.Time(sec)*sim.Second + sim.Time(nsec)*sim.Nanosecond
		}
	}
	buf := make([]byte, 8*nfds)
	if e := p.AS.Read(fds, buf); e != 0 {
		return neg(e), true, nil
	}
	p.pump()
	var n uint64
	for i := range nfds {
		fd := int64(int32(binary.LittleEndian.Uint32(buf[8*i:])))
		events := uint32(binary.LittleEndian.Uint16(buf[8*i+4:]))
		var r uint32
		if fd >= 0 {
			r = p.ready(fd, events)
		}
		binary.LittleEndian.PutUint16(buf[8*i+6:], uint16(r))
		if r != 0 {
			n++
		}
	}
	if n == 0 && p.wait(timeout, forever) {
		return 0, true, errBlocked
	}
	p.deadline = 0
	if e := p.AS.Write(fds, buf); e != 0 {
		return neg(e), true, nil
	}
	return n, true, nil
}

func (p *Process) epollOf(epfd int64) (*epoll, Errno) {
	f, e := p.file(epfd)
	if e != 0 {
		return nil, e
	}
	if f.ep == nil {
		return nil, EINVAL
	}
	return f.ep, 0
}

func (p *Process) epollCtl(epfd int64, op int, fd int64, ev uint64) uint64 {
	ep, e := p.epollOf(epfd)
	if e != 0 {
		return neg(e)
	}
	if _, e := p.file(fd); e != 0 {
		return neg(e)
	}
	if fd == epfd {
		return neg(EINVAL)
	}
	const add, del, mod = 1, 2, 3
	_, watched := ep.watch[int(fd)]
	var w epollWatch
	if op != del {
		// struct epoll_event on RV64: events (4), padding (4), data (8).
		var b [16]byte
		if e := p.AS.Read(ev, b[:]); e != 0 {
			return neg(e)
		}
		w = epollWatch{events: binary.LittleEndian.Uint32(b[0:]), data: binary.LittleEndian.Uint64(b[8:])}
	}
	switch {
	case op == add && watched:
		return neg(EEXIST)
	case (op == del || op == mod) && !watched:
		return neg(ENOENT)
	case op == add || op == mod:
		ep.watch[int(fd)] = w
	case op == del:
		delete(ep.watch, int(fd))
	default:
		return neg(EINVAL)
	}
	return 0
}

func (p *Process) epollWait(epfd int64, events uint64, max, timeoutMS int) (uint64, bool, error) {
	ep, e := p.epollOf(epfd)
	if e != 0 {
		return neg(e), true, nil
	}
	if max <= 0 {
		return neg(EINVAL), true, nil
	}
	p.pump()
	fds := make([]int, 0, len(ep.watch))
	for fd := range ep.watch {
		fds = append(fds, fd)
	}
	sort.Ints(fds)
	var out []byte
	n := 0
	for _, fd := range fds {
		w := ep.watch[fd]
		if _, e := p.file(int64(fd)); e != 0 {
			delete(ep.watch, fd) // closed: Linux forgets it
			continue
		}
		r := p.ready(int64(fd), w.events)
		if r == 0 || n == max {
			continue
		}
		var b [16]byte
		binary.LittleEndian.PutUint32(b[0:], r)
		binary.LittleEndian.PutUint64(b[8:], w.data)
		out = append(out, b[:]...)
		n++
	}
	if n == 0 && p.wait(sim.Time(max0(timeoutMS))*sim.Millisecond, timeoutMS < 0) {
		return 0, true, errBlocked
	}
	p.deadline = 0
	if e := p.AS.Write(events, out); e != 0 {
		return neg(e), true, nil
	}
	return uint64(n), true, nil
}

func max0(x int) int { return max(x, 0) }

// iovecs reads cnt struct iovec (base, length: 8 bytes each) at iovp.
func (p *Process) iovecs(iovp, cnt uint64) ([][2]uint64, Errno) {
	iov := make([][2]uint64, cnt)
	for i := range iov {
		var v [16]byte
		if e := p.AS.Read(iovp+uint64(i)*16, v[:]); e != 0 {
			return nil, e
		}
		iov[i] = [2]uint64{binary.LittleEndian.Uint64(v[0:]), binary.LittleEndian.Uint64(v[8:])}
	}
	return iov, 0
}

// socketVector is readv and writev on a socket: recv and send on its
// connected peer, gathering or scattering the iovecs.
func (p *Process) socketVector(write bool, fd int64, iovp, cnt uint64) (uint64, error) {
	if cnt > 1024 {
		return neg(EINVAL), nil
	}
	iov, e := p.iovecs(iovp, cnt)
	if e != 0 {
		return neg(e), nil
	}
	var ret uint64
	var err error
	if write {
		ret, _, err = p.sendto(fd, iov, 0, 0, 0)
	} else {
		ret, _, err = p.recvfrom(fd, iov, 0, 0, 0, 0)
	}
	return ret, err
}

// socketIO is read and write on a socket: recv and send on its connected
// peer.
func (p *Process) socketIO(write bool, fd int64, buf, n uint64) (uint64, error) {
	iov := [][2]uint64{{buf, min(n, maxIO)}}
	if write {
		ret, _, err := p.sendto(fd, iov, 0, 0, 0)
		return ret, err
	}
	ret, _, err := p.recvfrom(fd, iov, 0, 0, 0, 0)
	return ret, err
}
