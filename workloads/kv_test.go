package workloads

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/twinsim/twinsim/nic"
	"github.com/twinsim/twinsim/sim"
)

// refServer is the key-value protocol applied to a Go map, as kvserver
// applies it.
type refServer struct {
	cfg   KVMixConfig
	store map[string][]byte
}

// apply applies one request datagram and returns the response datagram.
func (s *refServer) apply(t require.TestingT, req []byte) []byte {
	d, err := nic.DecodeDatagram(req)
	require.NoError(t, err)
	b := d.Data
	id, op, klen, vlen := binary.LittleEndian.Uint32(b), b[4], int(b[5]), int(binary.LittleEndian.Uint16(b[6:]))
	key, val := string(b[8:8+klen]), b[8+klen:8+klen+vlen]
	status, out := uint8(KVOK), []byte(nil)
	switch op {
	case KVGet:
		v, ok := s.store[key]
		if !ok {
			status = KVNotFound
		}
		out = v
	case KVPut:
		s.store[key] = append([]byte(nil), val...)
	case KVDel:
		if _, ok := s.store[key]; !ok {
			status = KVNotFound
		}
		delete(s.store, key)
	}
	resp := make([]byte, 8+len(out))
	binary.LittleEndian.PutUint32(resp, id)
	resp[4] = status
	binary.LittleEndian.PutUint16(resp[6:], uint16(len(out)))
	copy(resp[8:], out)
	r := nic.Datagram{Src: s.cfg.Server, Dst: s.cfg.Client, SPort: s.cfg.ServerPort, DPort: s.cfg.ClientPort, Data: resp}
	return r.Encode()
}

func testMix(t require.TestingT, keys int) (*KVMix, *sim.Env) {
	env := sim.NewEnv(1)
	k, err := NewKVMix(env.Scope("c"), KVMixConfig{Keys: keys, GetFraction: 0.4, PutFraction: 0.4, ValueBytes: 16,
		Client: 1, Server: 2, ClientPort: 40000, ServerPort: 7000, Prefix: "c"})
	require.NoError(t, err)
	return k, env
}

// TestKVMixExactUnderRetries: requests and their retransmissions travel
// to the server in order (one path, as through the switch) and are
// applied or lost on the way (a crash), their answers delivered or lost;
// the client keeps more requests in flight than it has keys at times. Its
// record never disagrees with the answers of a server that loses no
// update it applied.
func TestKVMixExactUnderRetries(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		keys := rapid.IntRange(2, 12).Draw(rt, "keys")
		k, _ := testMix(rt, keys)
		srv := &refServer{cfg: k.cfg, store: map[string][]byte{}}
		type copyOf struct {
			tag  uint64
			data []byte
		}
		var wire []copyOf              // copies on their way to the server, in order
		pending := map[uint64][]byte{} // requests unanswered
		var tags []uint64              // their tags, in order
		next := uint64(0)
		for range rapid.IntRange(1, 400).Draw(rt, "steps") {
			switch a := rapid.IntRange(0, 9).Draw(rt, "action"); {
			case a < 3 && len(pending) < 2*keys: // a new request (beyond one per key: every key busy)
				next++
				data := k.Request(next)
				pending[next] = data
				tags = append(tags, next)
				wire = append(wire, copyOf{next, data})
			case a < 6 && len(wire) > 0: // the oldest copy reaches the server; its answer may be lost
				c := wire[0]
				wire = wire[1:]
				resp := srv.apply(rt, c.data)
				if _, ok := pending[c.tag]; ok && rapid.Bool().Draw(rt, "answered") {
					tag, ok := k.Response(resp)
					require.True(rt, ok)
					require.Equal(rt, c.tag, tag)
					delete(pending, c.tag)
				}
			case a < 7 && len(wire) > 0: // the oldest copy is lost on the way
				wire = wire[1:]
			case a < 9 && len(tags) > 0: // a timeout: an unanswered request goes out again
				tag := tags[rapid.IntRange(0, len(tags)-1).Draw(rt, "retried")]
				if data, ok := pending[tag]; ok {
					k.Retry(tag)
					wire = append(wire, copyOf{tag, data})
				}
			}
		}
		require.Zero(rt, k.mism.Value(), "mismatches")
		require.Zero(rt, k.bad.Value())
	})
}

// TestKVMixSeesLostUpdate: a server that loses an update whose answer the
// client has received (state rolled back past output it released) is
// caught when the key is next read.
func TestKVMixSeesLostUpdate(t *testing.T) {
	k, _ := testMix(t, 1) // one key: every request is on it
	k.cfg.GetFraction, k.cfg.PutFraction = 0, 1
	srv := &refServer{cfg: k.cfg, store: map[string][]byte{}}
	_, ok := k.Response(srv.apply(t, k.Request(1))) // PUT v1, answered
	require.True(t, ok)
	before := map[string][]byte{}
	for key, v := range srv.store {
		before[key] = v
	}
	_, ok = k.Response(srv.apply(t, k.Request(2))) // PUT v2, answered...
	require.True(t, ok)
	srv.store = before // ...and lost by the server
	k.cfg.GetFraction, k.cfg.PutFraction = 1, 0
	_, ok = k.Response(srv.apply(t, k.Request(3))) // GET: returns v1
	require.True(t, ok)
	require.Equal(t, uint64(1), k.mism.Value())
	require.Equal(t, uint64(3), k.checked.Value())
}

// TestKVMixLostRequestUncertain: a request given up leaves its key
// uncertain — its next GET is not checked — until a write to the key is
// answered.
func TestKVMixLostRequestUncertain(t *testing.T) {
	k, _ := testMix(t, 1)
	k.cfg.GetFraction, k.cfg.PutFraction = 0, 1
	srv := &refServer{cfg: k.cfg, store: map[string][]byte{}}
	k.Request(1) // PUT, never delivered
	k.Lost(1)
	k.cfg.GetFraction, k.cfg.PutFraction = 1, 0
	_, ok := k.Response(srv.apply(t, k.Request(2)))
	require.True(t, ok)
	require.Equal(t, uint64(1), k.unchecked.Value())
	k.cfg.GetFraction, k.cfg.PutFraction = 0, 1
	_, ok = k.Response(srv.apply(t, k.Request(3)))
	require.True(t, ok)
	k.cfg.GetFraction, k.cfg.PutFraction = 1, 0
	_, ok = k.Response(srv.apply(t, k.Request(4)))
	require.True(t, ok)
	require.Equal(t, uint64(2), k.checked.Value())
	require.Zero(t, k.mism.Value())
}
