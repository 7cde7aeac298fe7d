// Package experiment assembles scenarios from configurations, runs them on
// the event engine and writes their result directories: config.toml (the
// effective configuration), stats.json (statistics by component), stats.csv
// (the same, flat), one CSV per time series, meta.json (version, seed, wall
// time, host) and, on request, a Chrome/Perfetto trace.
//
// The scenarios are configurations of one machine: NewHost builds a host's
// cores (timing models, L1, L1I, L2, TLBs), shared L3 and DRAM for every
// scenario, with the cache controller's modification log when VMs are
// backed up. A VM runs a synthetic vCPU (role memory, service, bulk) or a
// guest program (role program: programVM, run by programRunner on its
// core, time-sliced when VMs share a core, with vfDriver under its
// sockets in ha-nic).
//
// Every output but meta.json is a pure function of the configuration (which
// includes the seed): two runs of one configuration write byte-identical
// files. Files are written atomically and a run directory appears only when
// it is complete.
package experiment
