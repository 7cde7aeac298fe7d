package workloads

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/twinsim/twinsim/nic"
	"github.com/twinsim/twinsim/sim"
)

// The protocol of the kvserver guest program (workloads/src/kvserver.c):
// one request per UDP datagram, integers little-endian.
//
//	request:  u32 id, u8 op, u8 key_len (1..64), u16 value_len (PUT: 0..1024), key, value
//	response: u32 id, u8 status, u8 0, u16 value_len, value
const (
	KVGet   = 1
	KVPut   = 2
	KVDel   = 3
	KVStats = 4

	KVOK         = 0
	KVNotFound   = 1
	KVBadRequest = 2
	KVFull       = 3

	KVMaxKey   = 64
	KVMaxValue = 1024
)

// KVRequest is a request to the key-value server.
type KVRequest struct {
	ID    uint32
	Op    uint8
	Key   []byte
	Value []byte
}

// Encode returns the request's bytes.
func (r *KVRequest) Encode() []byte {
	b := make([]byte, 8+len(r.Key)+len(r.Value))
	binary.LittleEndian.PutUint32(b[0:], r.ID)
	b[4], b[5] = r.Op, uint8(len(r.Key))
	binary.LittleEndian.PutUint16(b[6:], uint16(len(r.Value)))
	copy(b[8:], r.Key)
	copy(b[8+len(r.Key):], r.Value)
	return b
}

// KVResponse is the server's answer.
type KVResponse struct {
	ID     uint32
	Status uint8
	Value  []byte
}

// DecodeKVResponse parses a response, refusing one whose lengths disagree.
func DecodeKVResponse(b []byte) (KVResponse, error) {
	if len(b) < 8 {
		return KVResponse{}, fmt.Errorf("%d bytes: shorter than a response header", len(b))
	}
	n := int(binary.LittleEndian.Uint16(b[6:]))
	if len(b) != 8+n {
		return KVResponse{}, fmt.Errorf("value length %d in a %d-byte response", n, len(b))
	}
	return KVResponse{ID: binary.LittleEndian.Uint32(b), Status: b[4], Value: b[8:]}, nil
}

// KVMixConfig is a client's request mix: fractions of GETs and PUTs (the
// rest are DELs) over Keys keys of its own, PUT values of 1 to ValueBytes
// bytes.
type KVMixConfig struct {
	Keys                     int
	GetFraction, PutFraction float64
	ValueBytes               int
	// The endpoints: the client's address and port, the server's.
	Client, Server         uint32
	ClientPort, ServerPort uint16
	Prefix                 string // the client's key prefix: its keys are PREFIX-N
	// Poison is the share of requests that trigger PoisonKind's bug in a
	// kvserver run with -b: "overflow" (a PUT with a 48-byte key), "null"
	// (a GET of a 13-byte key never stored) or "leak" (a PUT of a
	// 777-byte value). They are outside the record, sent once and their
	// answers not checked.
	Poison     float64
	PoisonKind string
}

// Validate names the first value out of range.
func (c KVMixConfig) Validate() error {
	switch {
	case c.Keys < 1:
		return fmt.Errorf("a key-value mix needs at least 1 key")
	case c.GetFraction < 0 || c.PutFraction < 0 || c.GetFraction+c.PutFraction > 1:
		return fmt.Errorf("get (%g) and put (%g) fractions must be non-negative and sum to at most 1", c.GetFraction, c.PutFraction)
	case c.ValueBytes < 1 || c.ValueBytes > KVMaxValue:
		return fmt.Errorf("value size %d must be 1..%d", c.ValueBytes, KVMaxValue)
	case len(fmt.Sprintf("%s-%d", c.Prefix, c.Keys)) > KVMaxKey:
		return fmt.Errorf("keys %q are longer than %d bytes", c.Prefix, KVMaxKey)
	case c.Poison < 0 || c.Poison > 1:
		return fmt.Errorf("poison share %g must be 0..1", c.Poison)
	case c.Poison > 0 && c.PoisonKind != "overflow" && c.PoisonKind != "null" && c.PoisonKind != "leak":
		return fmt.Errorf("unknown poison kind %q (overflow, null, leak)", c.PoisonKind)
	}
	return nil
}

// KVMix is a client's key-value requests (nic.Payload): it draws each
// request from its mix and keeps its own record of what the store holds
// for its keys — updated as requests are sent, which is the order the
// server applies them in — and checks every response against it.
// Mismatches count answers that do not agree: a lost update, a wrong
// value, or a malformed response.
//
// The record stays exact when requests are sent again (after a timeout, or
// a failover that lost the server's latest state) because the client keeps
// at most one request in flight on each key (it draws another key while
// the drawn one is busy): a request applied twice leaves the store as
// applying it once does, and no later request on its key can overtake it.
// Only a retried DEL's status cannot be checked (the second copy finds the
// key gone); a key with more requests in flight than it should (every key
// busy) or with a request given up is uncertain — its GET and DEL answers
// are not checked — until a write to it is answered that was sent when
// nothing was in flight on the key, with nothing sent on it since.
type KVMix struct {
	cfg       KVMixConfig
	rng       *rand.Rand
	model     map[int][]byte // key index → value; absent: not stored
	expect    map[uint64]kvExpect
	inFlight  []uint16 // by key: requests in flight
	uncertain []bool   // by key: the record may not be the server's
	sends     []uint64 // by key: requests sent on it (retransmissions aside)
	ops       [4]*sim.Counter
	mism      *sim.Counter
	bad       *sim.Counter
	unchecked *sim.Counter
	checked   *sim.Counter
	poisoned  *sim.Counter
	scratch   nic.Datagram
}

type kvExpect struct {
	key     int
	op      uint8
	status  uint8
	value   []byte // GET: the value expected
	put     []byte // PUT: the value written
	retried bool   // sent again: the server may apply it twice
	poison  bool   // a poison request: outside the record
	clean   bool   // nothing else was in flight on its key when it was sent
	seq     uint64 // its number among the requests sent on its key
}

// NewKVMix returns a request mix with its random stream and statistics
// under scope.
func NewKVMix(scope sim.Scope, cfg KVMixConfig) (*KVMix, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", scope.Name(), err)
	}
	k := &KVMix{cfg: cfg, rng: sim.NewRNG(scope.Env().Seed, scope.Name()+".kv"), model: map[int][]byte{},
		expect: map[uint64]kvExpect{}, inFlight: make([]uint16, cfg.Keys), uncertain: make([]bool, cfg.Keys),
		sends: make([]uint64, cfg.Keys)}
	kv := scope.Child("kv")
	k.ops[KVGet] = kv.Counter("gets", "GET requests sent")
	k.ops[KVPut] = kv.Counter("puts", "PUT requests sent")
	k.ops[KVDel] = kv.Counter("dels", "DEL requests sent")
	k.mism = kv.Counter("mismatches", "responses that disagree with the client's record of the store (0 unless state was lost)")
	k.bad = kv.Counter("malformed", "frames that are not a response to one of the client's requests")
	k.checked = kv.Counter("checked", "answers checked against the record")
	k.poisoned = kv.Counter("poison", "poison requests sent")
	k.unchecked = kv.Counter("unchecked", "answers the record cannot check: a DEL sent more than once (an earlier copy may have removed the key), or a GET or DEL on a key whose state is uncertain (a request on it given up, or every key busy)")
	return k, nil
}

// poison returns the poison request tagged tag.
func (k *KVMix) poison(tag uint64) []byte {
	r := KVRequest{ID: uint32(tag)}
	switch k.cfg.PoisonKind {
	case "overflow":
		r.Op, r.Key, r.Value = KVPut, []byte(fmt.Sprintf("%-48.48s", k.cfg.Prefix+"-overflow-")), []byte("v")
		for i := range r.Key {
			if r.Key[i] == ' ' {
				r.Key[i] = 'X'
			}
		}
	case "null":
		r.Op, r.Key = KVGet, []byte(fmt.Sprintf("!%-12.12s", k.cfg.Prefix+"-null------"))
	default: // leak
		r.Op, r.Key, r.Value = KVPut, []byte(k.cfg.Prefix+"-leak"), make([]byte, 777)
	}
	k.expect[tag] = kvExpect{key: -1, op: r.Op, poison: true}
	k.poisoned.Inc()
	d := nic.Datagram{Src: k.cfg.Client, Dst: k.cfg.Server, SPort: k.cfg.ClientPort, DPort: k.cfg.ServerPort, Data: r.Encode()}
	return d.Encode()
}

// Request implements nic.Payload.
func (k *KVMix) Request(tag uint64) []byte {
	if k.cfg.Poison > 0 && k.rng.Float64() < k.cfg.Poison {
		return k.poison(tag)
	}
	i := k.rng.IntN(k.cfg.Keys)
	for j := range k.cfg.Keys { // the first key from i on with nothing in flight
		if n := (i + j) % k.cfg.Keys; k.inFlight[n] == 0 {
			i = n
			break
		}
	}
	e := kvExpect{key: i, clean: k.inFlight[i] == 0}
	if !e.clean {
		k.uncertain[i] = true // every key is busy: two requests on one may be applied in either order
	}
	k.inFlight[i]++
	k.sends[i]++
	e.seq = k.sends[i]
	key := []byte(fmt.Sprintf("%s-%d", k.cfg.Prefix, i))
	r := KVRequest{ID: uint32(tag), Key: key}
	old, stored := k.model[i]
	switch x := k.rng.Float64(); {
	case x < k.cfg.GetFraction:
		r.Op, e.op, e.status, e.value = KVGet, KVGet, KVOK, old
		if !stored {
			e.status, e.value = KVNotFound, nil
		}
	case x < k.cfg.GetFraction+k.cfg.PutFraction:
		r.Op = KVPut
		r.Value = make([]byte, 1+k.rng.IntN(k.cfg.ValueBytes))
		for j := range r.Value {
			r.Value[j] = byte(k.rng.Uint32())
		}
		k.model[i] = r.Value
		e.op, e.status, e.put = KVPut, KVOK, r.Value
	default:
		r.Op, e.op, e.status = KVDel, KVDel, KVNotFound
		if stored {
			e.status = KVOK
		}
		delete(k.model, i)
	}
	k.expect[tag] = e
	k.ops[r.Op].Inc()
	d := nic.Datagram{Src: k.cfg.Client, Dst: k.cfg.Server, SPort: k.cfg.ClientPort, DPort: k.cfg.ServerPort, Data: r.Encode()}
	return d.Encode()
}

// Response implements nic.Payload.
func (k *KVMix) Response(data []byte) (uint64, bool) {
	d, err := nic.DecodeDatagram(data)
	if err != nil || d.Src != k.cfg.Server || d.SPort != k.cfg.ServerPort || d.DPort != k.cfg.ClientPort {
		k.bad.Inc()
		return 0, false
	}
	resp, err := DecodeKVResponse(d.Data)
	if err != nil {
		k.bad.Inc()
		return 0, false
	}
	tag := uint64(resp.ID)
	want, ok := k.expect[tag]
	if !ok {
		return tag, true // a duplicate or unknown: the client ignores it
	}
	if want.poison {
		delete(k.expect, tag)
		return tag, true
	}
	k.done(tag, want)
	switch {
	case k.uncertain[want.key] && want.op != KVPut || want.retried && want.op == KVDel:
		k.unchecked.Inc()
	case resp.Status != want.status || (want.op == KVGet && string(resp.Value) != string(want.value)):
		k.checked.Inc()
		k.mism.Inc()
	default:
		k.checked.Inc()
	}
	if want.op != KVGet && want.clean && k.sends[want.key] == want.seq {
		// A write sent when nothing was in flight on its key, and nothing
		// since, is answered: every copy of an earlier request on the
		// key went out before it (the path keeps order), so the server
		// applied it last and the key holds what it wrote.
		k.uncertain[want.key] = false
		if want.op == KVPut {
			k.model[want.key] = want.put
		} else {
			delete(k.model, want.key)
		}
	}
	return tag, true
}

// done ends the request tagged tag.
func (k *KVMix) done(tag uint64, e kvExpect) {
	delete(k.expect, tag)
	k.inFlight[e.key]--
}

// Retry implements nic.Retrier: the request tagged tag goes out again,
// unless it is a poison request, which is sent once.
func (k *KVMix) Retry(tag uint64) bool {
	e, ok := k.expect[tag]
	if ok && e.poison {
		return false
	}
	if ok {
		e.retried = true
		k.expect[tag] = e
	}
	return true
}

// Lost implements nic.Retrier: the client has given the request tagged
// tag up, so the server may or may not have applied it.
func (k *KVMix) Lost(tag uint64) {
	e, ok := k.expect[tag]
	switch {
	case ok && e.poison:
		delete(k.expect, tag)
	case ok:
		k.done(tag, e)
		k.uncertain[e.key] = true
	}
}
