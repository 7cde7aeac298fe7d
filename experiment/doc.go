// Package experiment assembles scenarios from configurations, runs them on
// the event engine and writes their result directories: config.toml (the
// effective configuration), stats.json (statistics by component), stats.csv
// (the same, flat), one CSV per time series, meta.json (version, seed, wall
// time, host) and, on request, a Chrome/Perfetto trace.
//
// Every output but meta.json is a pure function of the configuration (which
// includes the seed): two runs of one configuration write byte-identical
// files. Files are written atomically and a run directory appears only when
// it is complete.
package experiment
