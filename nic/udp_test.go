package nic

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDatagramRoundTrip: an encoded datagram decodes to itself, and its
// IPv4 header checksum is the one RFC 1071's worked example gives for the
// same header.
func TestDatagramRoundTrip(t *testing.T) {
	d := Datagram{Src: 0x0a000001, Dst: 0x0a000102, SPort: 40000, DPort: 7000, Data: []byte("hello")}
	b := d.Encode()
	require.Len(t, b, UDPOverhead+5)
	got, err := DecodeDatagram(b)
	require.NoError(t, err)
	require.Equal(t, d, got)
	require.Equal(t, "10.0.1.2", IPv4String(d.Dst))
	// The header of the well-known example (Wikipedia, "IPv4 header
	// checksum"): 4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7.
	h := []byte{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7}
	require.Equal(t, uint16(0xb861), ipChecksum(h))
}

// TestDatagramRefused: what a host drops is refused with a reason, never a
// panic.
func TestDatagramRefused(t *testing.T) {
	good := (&Datagram{Src: 1, Dst: 2, SPort: 3, DPort: 4, Data: []byte("abc")}).Encode()
	for name, mutate := range map[string]func([]byte) []byte{
		"short":        func(b []byte) []byte { return b[:10] },
		"ipv6":         func(b []byte) []byte { b[0] = 0x60; return b },
		"tcp":          func(b []byte) []byte { b[9] = 6; return b },
		"checksum":     func(b []byte) []byte { b[12] ^= 1; return b },
		"fragment":     func(b []byte) []byte { b[6] = 0x20; return b },
		"total length": func(b []byte) []byte { b[2], b[3] = 0xff, 0xff; return b },
	} {
		b := mutate(append([]byte(nil), good...))
		if name == "tcp" || name == "fragment" || name == "total length" { // keep the checksum right
			b[10], b[11] = 0, 0
			c := ipChecksum(b[:IPv4HeaderBytes])
			b[10], b[11] = byte(c>>8), byte(c)
		}
		_, err := DecodeDatagram(b)
		require.Error(t, err, name)
	}
}

func FuzzDecodeDatagram(f *testing.F) {
	f.Add((&Datagram{Src: 1, Dst: 2, SPort: 3, DPort: 4, Data: []byte("abc")}).Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeDatagram(b)
		if err == nil {
			require.Equal(t, d, mustDecode(t, d.Encode()))
		}
	})
}

func mustDecode(t *testing.T, b []byte) Datagram {
	d, err := DecodeDatagram(b)
	require.NoError(t, err)
	return d
}
