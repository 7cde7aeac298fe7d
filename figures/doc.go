// Package figures turns sweep results into the plots twinsim reproduces
// from the patents (PATENTS.md, "Figures twinsim reproduces").
//
// A Figure is a named sweep (an embedded sweep file, configs/sweeps) plus a
// plot specification: panels selected by axis values, an x axis taken from
// one sweep axis, and series drawn from the sweep's metrics — one line per
// metric or one per value of another axis — with 95 % confidence intervals
// over seeds as error bars. Render draws a figure from a sweep's
// summary.csv with gonum.org/v1/plot into PNG and SVG files and writes the
// CSV of exactly the plotted numbers beside them; Generate runs (or reuses)
// the sweeps behind a list of figures and renders them with an index.md.
//
// Figures available: F3 (bytes replicated per checkpoint against the
// checkpoint interval, per tracking method and write pattern) and F4
// (modification-log entries, checkpoint-scan cost and the eviction share of
// log entries against cache size and interval). The other figures of
// PATENTS.md need mechanisms twinsim does not simulate yet (the binary
// translator, the NIC, failover) and are not defined.
package figures
