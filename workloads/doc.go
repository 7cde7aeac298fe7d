// Package workloads holds twinsim's guest workloads. This file set provides
// the synthetic memory-access models that drive the cache and memory models
// without a real guest program: a stream of (offset, read/write) pairs over a
// footprint, with a configurable write fraction and locality (uniform, Zipf,
// sequential, strided), deterministic for a given random stream.
//
// The models are used by the VM-backup scenario (patent family 3), where the
// addresses a backed-up VM writes decide what every checkpoint method must
// replicate.
//
// The real guest programs are C sources in src/ built into static RV64GC
// ELFs in bin/ (make workloads), with qemu-riscv64's output for each
// differential case in expected/ (cases.txt, and netcases.txt for the
// networked kvserver/kvclient pairs). KVMix is an external client's side
// of kvserver's UDP protocol: a request mix over the client's own keys,
// with every answer checked against the client's record of the store.
package workloads
