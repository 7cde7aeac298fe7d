// Package sim is twinsim's simulation kernel: simulated time in integer
// picoseconds, clock frequencies with exact cycle/time conversion, the serial
// discrete-event engine, hierarchically named components (scopes), links with
// latency and bandwidth, deterministic random-number streams, statistics
// (counters, histograms, derived values, time series) with JSON/CSV export,
// and Chrome/Perfetto trace export.
//
// It models no hardware. Every other twinsim package builds on it.
//
// Determinism: events at equal times run in the order they were scheduled,
// every random stream is derived from (run seed, component name), and every
// export is sorted, so one configuration and one seed give byte-identical
// output files.
package sim
