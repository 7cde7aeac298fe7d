package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/twinsim/twinsim/sim"
)

// ServiceDist is the distribution of a request/response service's compute
// time per request.
type ServiceDist int

// Service-time distributions.
const (
	// Constant takes exactly the mean every time.
	Constant ServiceDist = iota
	// Exponential draws from an exponential distribution of the mean (an
	// M/M/1 server when arrivals are Poisson).
	Exponential
	// Lognormal draws from a lognormal distribution of the mean and a
	// coefficient of variation of 1 with a heavier tail than the
	// exponential's.
	Lognormal
)

var distNames = []string{"constant", "exponential", "lognormal"}

func (d ServiceDist) String() string {
	if int(d) < len(distNames) {
		return distNames[d]
	}
	return fmt.Sprintf("ServiceDist(%d)", int(d))
}

// ParseServiceDist parses a configuration name such as "exponential".
func ParseServiceDist(s string) (ServiceDist, error) {
	for i, n := range distNames {
		if n == s {
			return ServiceDist(i), nil
		}
	}
	return 0, fmt.Errorf("unknown service-time distribution %q; must be one of constant, exponential, lognormal", s)
}

// ServiceConfig describes a synthetic request/response service: each
// request computes for a time drawn from Dist around Mean and makes Ops
// memory operations from the VM's access stream (so the work a request
// does is what dirties memory and decides a checkpoint's size), then
// answers with ResponseBytes.
type ServiceConfig struct {
	Dist          ServiceDist
	Mean          sim.Time
	Ops           int
	ResponseBytes uint32
}

// Validate checks the configuration.
func (c ServiceConfig) Validate() error {
	switch {
	case c.Dist > Lognormal || c.Dist < 0:
		return fmt.Errorf("unknown service-time distribution %d", c.Dist)
	case c.Ops < 0:
		return fmt.Errorf("%d memory operations per request is not allowed", c.Ops)
	case c.ResponseBytes == 0:
		return fmt.Errorf("a response needs at least one byte")
	}
	return nil
}

// lognormalSigma is σ for a coefficient of variation of 1: CV² = e^{σ²} - 1.
var lognormalSigma = math.Sqrt(math.Ln2)

// Draw returns one request's compute time.
func (c ServiceConfig) Draw(rng *rand.Rand) sim.Time {
	mean := float64(c.Mean)
	switch c.Dist {
	case Exponential:
		return sim.Time(rng.ExpFloat64() * mean)
	case Lognormal:
		mu := math.Log(mean) - lognormalSigma*lognormalSigma/2
		return sim.Time(math.Exp(mu + lognormalSigma*rng.NormFloat64()))
	}
	return c.Mean
}
