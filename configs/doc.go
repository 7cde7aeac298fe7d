// Package configs is twinsim's configuration: the TOML schema, its defaults,
// strict loading and validation, a documented dump, and the embedded example
// scenarios (configs/*.toml).
//
// The schema is plain data (Config and its parts) whose struct tags carry
// each key's TOML name, a one-line doc, and the allowed range or values;
// Parse, Validate and Dump all read those tags, so the documentation a user
// sees in "twinsim config dump" is the rule the validator applies. Rules
// that involve several keys (cache geometry, write policy of the last level,
// log size against line size, cores and memory shared among VMs) are checked
// in code by Validate.
//
// Loading is strict: an unknown key, a value of the wrong type or a value out
// of range is an error naming the source, the key path, the value and what is
// allowed, such as
//
//	run.toml: cache.l2.ways: 0 is not allowed; must be 1..64
//	run.toml: cache.l2.wayz: unknown key (allowed keys in cache.l2: bank_cycles, banks, enabled, inclusive, latency, replacement, size, ways, write_policy; did you mean "ways"?)
//	run.toml: vm[1].workload.pattern: "zipff" is not allowed; must be one of uniform, zipf, sequential, strided
//
// Values with units use the types Size (bytes), Duration (sim.Time),
// Frequency (sim.Freq) and Bandwidth (bytes per second), which read and
// write human forms such as "32KiB", "25ms", "3GHz" and "12.8GB/s".
//
// The schema models the VM-backup scenario of patent family 3 (GB2516083A,
// US 10,108,498): cache image-modification flags, the modification log and
// its overflow policy, and the checkpoint costs. It
// does not build components: the experiment package turns a Config into a
// simulated machine.
package configs
