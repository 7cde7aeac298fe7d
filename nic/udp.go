package nic

import (
	"encoding/binary"
	"fmt"
)

// IPv4 and UDP as the hosts on twinsim's network speak them: a frame's
// payload (Packet.Data) is an IPv4 datagram (RFC 791: a 20-byte header
// without options) carrying UDP (RFC 768: an 8-byte header). Addresses map
// to MACs statically (no ARP on the wire).
const (
	IPv4HeaderBytes = 20
	UDPHeaderBytes  = 8
	UDPOverhead     = IPv4HeaderBytes + UDPHeaderBytes
	protoUDP        = 17
	defaultTTL      = 64
)

// Datagram is a UDP datagram between two IPv4 endpoints.
type Datagram struct {
	Src, Dst     uint32 // IPv4 addresses, host order (10.0.0.1 is 0x0a000001)
	SPort, DPort uint16
	Data         []byte
}

// IPv4String formats an address in dotted quads.
func IPv4String(a uint32) string {
	return fmt.Sprintf("%d.%d.%d.%d", a>>24, a>>16&255, a>>8&255, a&255)
}

// Encode returns the datagram as a frame payload: IPv4 header (with its
// checksum), UDP header (checksum 0: none, as RFC 768 allows over IPv4),
// data.
func (d *Datagram) Encode() []byte {
	b := make([]byte, UDPOverhead+len(d.Data))
	d.EncodeInto(b)
	return b
}

// EncodeInto writes the datagram into b, which must hold UDPOverhead +
// len(d.Data) bytes.
func (d *Datagram) EncodeInto(b []byte) {
	total := UDPOverhead + len(d.Data)
	b[0] = 0x45 // version 4, 5 words of header
	b[1] = 0
	binary.BigEndian.PutUint16(b[2:], uint16(total))
	binary.BigEndian.PutUint16(b[4:], 0)      // identification
	binary.BigEndian.PutUint16(b[6:], 0x4000) // don't fragment
	b[8], b[9] = defaultTTL, protoUDP
	binary.BigEndian.PutUint16(b[10:], 0)
	binary.BigEndian.PutUint32(b[12:], d.Src)
	binary.BigEndian.PutUint32(b[16:], d.Dst)
	binary.BigEndian.PutUint16(b[10:], ipChecksum(b[:IPv4HeaderBytes]))
	u := b[IPv4HeaderBytes:]
	binary.BigEndian.PutUint16(u[0:], d.SPort)
	binary.BigEndian.PutUint16(u[2:], d.DPort)
	binary.BigEndian.PutUint16(u[4:], uint16(UDPHeaderBytes+len(d.Data)))
	binary.BigEndian.PutUint16(u[6:], 0)
	copy(u[UDPHeaderBytes:], d.Data)
}

// DecodeDatagram parses a frame payload as an IPv4/UDP datagram. It
// refuses, with the reason, what a receiving host would drop: a short or
// malformed header, a bad header checksum, another protocol, a fragment,
// lengths that disagree. Data aliases b.
func DecodeDatagram(b []byte) (Datagram, error) {
	switch {
	case len(b) < UDPOverhead:
		return Datagram{}, fmt.Errorf("%d bytes: shorter than IPv4 and UDP headers", len(b))
	case b[0] != 0x45:
		return Datagram{}, fmt.Errorf("not IPv4 without options (first byte %#x)", b[0])
	case b[9] != protoUDP:
		return Datagram{}, fmt.Errorf("protocol %d, not UDP", b[9])
	case binary.BigEndian.Uint16(b[6:])&0x3fff != 0:
		return Datagram{}, fmt.Errorf("a fragment")
	case ipChecksum(b[:IPv4HeaderBytes]) != 0:
		return Datagram{}, fmt.Errorf("bad IPv4 header checksum")
	}
	total := int(binary.BigEndian.Uint16(b[2:]))
	if total < UDPOverhead || total > len(b) {
		return Datagram{}, fmt.Errorf("IPv4 total length %d for %d bytes", total, len(b))
	}
	u := b[IPv4HeaderBytes:total]
	ulen := int(binary.BigEndian.Uint16(u[4:]))
	if ulen < UDPHeaderBytes || ulen > len(u) {
		return Datagram{}, fmt.Errorf("UDP length %d for %d bytes", ulen, len(u))
	}
	return Datagram{Src: binary.BigEndian.Uint32(b[12:]), Dst: binary.BigEndian.Uint32(b[16:]),
		SPort: binary.BigEndian.Uint16(u[0:]), DPort: binary.BigEndian.Uint16(u[2:]), Data: u[UDPHeaderBytes:ulen]}, nil
}

// ipChecksum is the Internet checksum (RFC 1071) of b; over a header with
// its checksum in place it is 0.
func ipChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
