// Package workloads holds twinsim's guest workloads. This file set provides
// the synthetic memory-access models that drive the cache and memory models
// without a real guest program: a stream of (offset, read/write) pairs over a
// footprint, with a configurable write fraction and locality (uniform, Zipf,
// sequential, strided), deterministic for a given random stream.
//
// The models are used by the VM-backup scenario (patent family 3), where the
// addresses a backed-up VM writes decide what every checkpoint method must
// replicate.
package workloads
