package workloads

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// Pattern is the locality of a synthetic access stream.
type Pattern int

// Access patterns.
const (
	// Uniform picks every access-size unit of the footprint with equal probability.
	Uniform Pattern = iota
	// Zipf picks cache lines with Zipf-distributed popularity; the popular
	// lines are scattered over the footprint by a fixed permutation, so hot
	// data does not cluster in a few pages.
	Zipf
	// Sequential walks the footprint one access at a time and wraps.
	Sequential
	// Strided walks the footprint in steps of Stride; each wrap starts one
	// access further on, so the whole footprint is eventually covered.
	Strided
)

var patternNames = []string{"uniform", "zipf", "sequential", "strided"}

// String returns the configuration name of p.
func (p Pattern) String() string {
	if int(p) < len(patternNames) {
		return patternNames[p]
	}
	return fmt.Sprintf("Pattern(%d)", int(p))
}

// ParsePattern parses a configuration name such as "zipf".
func ParsePattern(s string) (Pattern, error) {
	for i, n := range patternNames {
		if n == s {
			return Pattern(i), nil
		}
	}
	return 0, fmt.Errorf("unknown access pattern %q; must be one of uniform, zipf, sequential, strided", s)
}

// StreamConfig describes a synthetic access stream.
type StreamConfig struct {
	Pattern       Pattern
	Footprint     uint64  // bytes the stream touches, from offset 0
	WriteFraction float64 // probability that an access is a store
	ZipfS         float64 // Zipf exponent (> 1), for Zipf
	Stride        uint64  // bytes between consecutive accesses, for Strided
	AccessSize    uint64  // bytes per access (power of two); offsets are aligned to it
	LineSize      uint64  // cache line size; Zipf ranks lines of this size
}

// Validate checks the configuration.
func (c StreamConfig) Validate() error {
	switch {
	case c.AccessSize == 0 || c.AccessSize&(c.AccessSize-1) != 0:
		return fmt.Errorf("access size %d is not a power of two", c.AccessSize)
	case c.LineSize < c.AccessSize || c.LineSize&(c.LineSize-1) != 0:
		return fmt.Errorf("line size %d is not a power of two at least the access size %d", c.LineSize, c.AccessSize)
	case c.Footprint < c.LineSize || c.Footprint%c.LineSize != 0:
		return fmt.Errorf("footprint %d is not a positive multiple of the line size %d", c.Footprint, c.LineSize)
	case c.WriteFraction < 0 || c.WriteFraction > 1:
		return fmt.Errorf("write fraction %g is outside 0..1", c.WriteFraction)
	case c.Pattern == Zipf && !(c.ZipfS > 1):
		return fmt.Errorf("zipf exponent %g must be greater than 1", c.ZipfS)
	case c.Pattern == Strided && (c.Stride < c.AccessSize || c.Stride%c.AccessSize != 0 || c.Stride > c.Footprint):
		return fmt.Errorf("stride %d must be a multiple of the access size %d and at most the footprint %d", c.Stride, c.AccessSize, c.Footprint)
	case c.Pattern < Uniform || c.Pattern > Strided:
		return fmt.Errorf("unknown pattern %d", int(c.Pattern))
	}
	return nil
}

// Stream generates accesses. It is not safe for concurrent use.
type Stream struct {
	cfg       StreamConfig
	rng       *rand.Rand
	zipf      *rand.Zipf
	units     uint64 // footprint / access size
	lines     uint64
	perm      uint64 // odd multiplier permuting Zipf ranks over lines
	unitsLine uint64 // access units per line
	pos       uint64 // next offset, for Sequential and Strided
	lap       uint64 // strided: completed passes
}

// NewStream returns a stream drawing from rng.
func NewStream(cfg StreamConfig, rng *rand.Rand) (*Stream, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Stream{
		cfg:       cfg,
		rng:       rng,
		units:     cfg.Footprint / cfg.AccessSize,
		lines:     cfg.Footprint / cfg.LineSize,
		unitsLine: cfg.LineSize / cfg.AccessSize,
	}
	if cfg.Pattern == Zipf {
		s.zipf = rand.NewZipf(rng, cfg.ZipfS, 1, s.lines-1)
		s.perm = permMultiplier(s.lines)
	}
	return s, nil
}

// permMultiplier returns a multiplier coprime with n, near n·φ, so that
// rank·m mod n is a permutation of 0..n-1 that scatters neighbouring ranks.
func permMultiplier(n uint64) uint64 {
	if n <= 2 {
		return 1
	}
	m := uint64(float64(n)*0.6180339887) | 1
	for gcd(m, n) != 1 {
		m += 2
	}
	return m
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Next returns the byte offset (aligned to the access size, below the
// footprint) and kind of the next access.
func (s *Stream) Next() (offset uint64, write bool) {
	switch s.cfg.Pattern {
	case Uniform:
		offset = s.rng.Uint64N(s.units) * s.cfg.AccessSize
	case Zipf:
		rank := s.zipf.Uint64()
		hi, lo := bits.Mul64(rank, s.perm)
		_, line := bits.Div64(hi%s.lines, lo, s.lines)
		offset = line*s.cfg.LineSize + s.rng.Uint64N(s.unitsLine)*s.cfg.AccessSize
	case Sequential:
		offset = s.pos
		s.pos += s.cfg.AccessSize
		if s.pos >= s.cfg.Footprint {
			s.pos = 0
		}
	case Strided:
		offset = s.pos
		s.pos += s.cfg.Stride
		if s.pos >= s.cfg.Footprint {
			s.lap++
			s.pos = (s.lap * s.cfg.AccessSize) % s.cfg.Stride
		}
	}
	write = s.cfg.WriteFraction > 0 && s.rng.Float64() < s.cfg.WriteFraction
	return offset, write
}
