package sim

import "math/rand/v2"

// Env is everything one simulation run shares: its engine, statistics
// registry, optional tracer and seed. Components are built from Scopes of an
// Env.
type Env struct {
	Engine *Engine
	Stats  *Stats
	Tracer *Tracer // nil when tracing is off
	Seed   uint64
	atEnd  []func()
}

// AtEnd registers fn to run once when the run ends (End), before its
// statistics are read: a component that settles deferred work there (the
// cache weave replays what is left) leaves complete statistics.
func (e *Env) AtEnd(fn func()) { e.atEnd = append(e.atEnd, fn) }

// End runs the functions registered with AtEnd, in order, once.
func (e *Env) End() {
	fns := e.atEnd
	e.atEnd = nil
	for _, fn := range fns {
		fn()
	}
}

// NewEnv returns an environment with a fresh engine and registry and no
// tracer.
func NewEnv(seed uint64) *Env {
	return &Env{Engine: NewEngine(), Stats: NewStats(), Seed: seed}
}

// Scope returns the scope of the top-level component called name.
func (e *Env) Scope(name string) Scope { return Scope{env: e, name: name} }

// Scope is a component's place in the hierarchy ("host0.core1.l2"): it names
// the component's statistics, trace track and random stream.
type Scope struct {
	env  *Env
	name string
}

// Name returns the full hierarchical name.
func (s Scope) Name() string { return s.name }

// Env returns the run environment.
func (s Scope) Env() *Env { return s.env }

// Engine returns the run's event engine.
func (s Scope) Engine() *Engine { return s.env.Engine }

// Tracer returns the run's tracer, or nil when tracing is off. Callers test
// for nil so that tracing costs one branch when it is off.
func (s Scope) Tracer() *Tracer { return s.env.Tracer }

// Child returns the scope of a sub-component.
func (s Scope) Child(name string) Scope {
	if s.name == "" {
		return Scope{env: s.env, name: name}
	}
	return Scope{env: s.env, name: s.name + "." + name}
}

// RNG returns this component's deterministic random stream, derived from
// (run seed, full name). Each call returns a new generator at the start of
// the stream, so call it once per component.
func (s Scope) RNG() *rand.Rand { return NewRNG(s.env.Seed, s.name) }

// Counter registers a counter under this component.
func (s Scope) Counter(name, doc string) *Counter { return s.env.Stats.Counter(s.name, name, doc) }

// Histogram registers a histogram under this component.
func (s Scope) Histogram(name, unit, doc string) *Histogram {
	return s.env.Stats.Histogram(s.name, name, unit, doc)
}

// Value registers a derived statistic under this component.
func (s Scope) Value(name, doc string, f func() float64) { s.env.Stats.Value(s.name, name, doc, f) }

// Series registers a time series under this component.
func (s Scope) Series(name, doc string, cols ...string) *Series {
	return s.env.Stats.Series(s.name, name, doc, cols...)
}
