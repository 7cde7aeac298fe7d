package experiment

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/sim"
)

// failoverHost is configs/failover.toml with sets applied.
func failoverHost(t testing.TB, sets ...string) configs.Config {
	t.Helper()
	cfg, err := configs.Load("failover", sets)
	require.NoError(t, err)
	return cfg
}

// smallFailover is a short failover run: a kvserver VM checkpointed every
// interval, two open-loop kv clients (so the work after the failover is
// bounded), heartbeats every 500 us, a fault drawn from [2ms, 14ms).
func smallFailover(t testing.TB, seed uint64, interval sim.Time, kind, host, fencing string, sets ...string) configs.Config {
	t.Helper()
	base := []string{"run.duration=24ms", fmt.Sprintf("run.seed=%d", seed), "host.cores=1", "host.memory=256MiB",
		"backup.interval=" + interval.String(), "backup.log_size=1MiB", "ha.heartbeat=500us", "ha.misses=3",
		"ha.activation=500us", `ha.fencing="` + fencing + `"`, "vm[0].memory=16MiB",
		`client[0].mode="open"`, "client[0].rate=6000", "client[0].timeout=3ms", "client[1].rate=3000", "client[1].timeout=3ms",
		`fault[0].kind="` + kind + `"`, `fault[0].host="` + host + `"`, "fault[0].at=0s", "fault[0].after=2ms", "fault[0].within=12ms"}
	return failoverHost(t, append(base, sets...)...)
}

// failoverInvariants checks what must hold in every run with faults: no
// frame a client could receive reflects state the surviving copy lost, at
// most one copy of a VM ever sends, every answer agrees with the client's
// record of the store (so no acknowledged request was lost from the
// service's state, and the state after failover is the last commit's plus
// what was retried), output left only once its state was on the
// secondary while the secondary was there, and the secondary's image
// always equalled the primary's at the acknowledged checkpoints.
func failoverInvariants(t require.TestingT, r *Result, what string) {
	requireZero(t, r, what, "failover.lost_output", "failover.two_copies",
		"clients.c0.kv.mismatches", "clients.c1.kv.mismatches", "clients.c0.kv.malformed", "clients.c1.kv.malformed",
		"host0.backup.image_mismatches", "network.output_commit.violations")
}

// requireZero checks that each statistic ("path.name") exists and is 0.
func requireZero(t require.TestingT, r *Result, what string, stats ...string) {
	for _, st := range stats {
		i := strings.LastIndexByte(st, '.')
		v, ok := r.Env.Stats.Lookup(st[:i], st[i+1:])
		require.True(t, ok, "%s: no statistic %s", what, st)
		require.Zero(t, v, "%s: %s", what, st)
	}
}

// TestFailoverMachine runs configs/failover.toml (shortened): the primary
// crashes at 100 ms; the secondary suspects it after three silent
// heartbeat intervals, wins the claim, resumes the kv server from the
// last checkpoint it applied and answers the clients' retransmissions;
// every invariant holds, and the timeline is in the order of the
// protocol.
func TestFailoverMachine(t *testing.T) {
	r, err := Run(failoverHost(t, "run.duration=350ms"), Options{})
	require.NoError(t, err)
	s := r.scen.(*haNIC)
	failoverInvariants(t, r, "failover.toml")
	fo := s.fo
	require.True(t, fo.activated)
	require.Len(t, fo.copies(), 1)
	hb := 20 * sim.Millisecond
	// Detection: three silent intervals after the last heartbeat heard,
	// which left at most one interval before the crash.
	require.GreaterOrEqual(t, fo.suspectAt-fo.faultAt, 2*hb)
	require.LessOrEqual(t, fo.suspectAt-fo.faultAt, 3*hb)
	// Activation: the claim's round trip and ha.activation after that.
	require.Equal(t, fo.suspectAt+4*sim.Microsecond+5*sim.Millisecond, fo.activeAt)
	require.Greater(t, fo.firstFrame, fo.activeAt)
	// The copy resumed from the last checkpoint the secondary applied,
	// which the primary took before it crashed.
	require.Equal(t, s.backup.Backed(), fo.activatedEpochs)
	require.Positive(t, fo.activatedEpochs)
	require.Equal(t, fo.activatedEpochs-1, fo.terms[0].vms[0].applied.epoch)
	// The clients sent again what the crash left unanswered, and the
	// copy answered them.
	require.Positive(t, runStat(t, r, "clients.c0", "retransmissions"))
	require.Positive(t, runStat(t, r, "clients.c1", "retransmissions"))
	require.Positive(t, runStat(t, r, "clients.c0.kv", "checked"))
	require.Positive(t, runStat(t, r, "host1.vm.kv.net", "received"))
	require.Positive(t, runStat(t, r, "host0.nic", "lost_in_failure")+runStat(t, r, "host0.nic", "held_packets"))
	var order []string
	for _, m := range fo.timeline {
		order = append(order, strings.Fields(m.what)[0]+" "+strings.Fields(m.what)[1])
	}
	require.Equal(t, []string{"fault: host0", "host1 suspects", "host1 claims", "the witness", "host1 runs", "host1's copies"}, order)
	var out bytes.Buffer
	r.WriteSummary(&out)
	require.Contains(t, out.String(), "timeline:")
	require.Contains(t, out.String(), "failover checks: 0 frames reflecting state a surviving copy lost; 0 frames from a copy after its replacement began running")
}

// failoverKinds are the faults the property draws from: a crash or
// partition of either host, a cut link, and two crashes with a spare (a
// crash of host0, re-protection onto host2, a crash of host1).
var failoverKinds = []struct{ kind, host string }{
	{"host-crash", "primary"}, {"host-crash", "primary"}, {"host-crash", "primary"},
	{"partition", "primary"}, {"host-crash", "secondary"}, {"link-loss", "primary"}, {"partition", "secondary"},
	{"spare", "primary"}, {"spare", "primary"},
}

// failoverCase runs the random failover of seed — its workload (checkpoint
// interval, request mix, rate), fault and instant all drawn from the seed —
// checks the invariants, and reports whether the VMs were activated on
// host1 and on host2.
func failoverCase(t testing.TB, seed uint64) (activated, twice bool) {
	rng := rand.New(rand.NewPCG(seed, 14))
	k := failoverKinds[rng.IntN(len(failoverKinds))]
	interval := sim.Time(300+rng.IntN(2700)) * sim.Microsecond
	get := 0.2 + 0.6*rng.Float64()
	sets := []string{fmt.Sprintf("client[0].kv.get_fraction=%.3f", get), fmt.Sprintf("client[0].kv.put_fraction=%.3f", (1-get)*0.8),
		fmt.Sprintf("client[0].kv.keys=%d", 4+rng.IntN(60)), fmt.Sprintf("client[0].rate=%d", 1000+rng.IntN(8000))}
	kind := k.kind
	if kind == "spare" {
		kind = "host-crash"
		sets = append(sets, "run.duration=60ms", `ha.after_failover="spare"`, `fault[1].kind="host-crash"`,
			`fault[1].host="secondary"`, "fault[1].after=16ms", "fault[1].within=40ms")
	}
	cfg := smallFailover(t, seed, interval, kind, k.host, "witness", sets...)
	r, err := Run(cfg, Options{})
	require.NoError(t, err)
	what := fmt.Sprintf("seed %d: %s of the %s, interval %v", seed, k.kind, k.host, interval)
	failoverInvariants(t, r, what)
	fo := r.scen.(*haNIC).fo
	if fo.activated {
		require.Equal(t, "primary", k.host, what)
		if k.kind != "spare" { // re-protected copies hold their output for the image copy's while
			require.Less(t, fo.firstFrame, sim.MaxTime, "%s: the activated copy never answered", what)
		}
	}
	return fo.activated, len(fo.hosts) > 2 && fo.hosts[2].hw != nil
}

// TestFailoverProperty: over random workloads, random faults and random
// instants, the invariants hold: 1,000 runs (FuzzFailover draws more).
func TestFailoverProperty(t *testing.T) {
	runs := 1000
	if testing.Short() {
		runs = 100
	}
	const workers = 2
	for w := range workers {
		t.Run(fmt.Sprintf("worker%d", w), func(t *testing.T) {
			t.Parallel()
			activated, twice := 0, 0
			for seed := uint64(w); seed < uint64(runs); seed += workers {
				a, b := failoverCase(t, seed)
				if a {
					activated++
				}
				if b {
					twice++
				}
			}
			require.Positive(t, activated)
			require.Positive(t, twice, "no run failed over twice")
		})
	}
}

// FuzzFailover draws failovers beyond the property test's 1,000: each
// input is a seed for failoverCase (make fuzz).
func FuzzFailover(f *testing.F) {
	for _, seed := range []uint64{0, 1, 7, 639} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) { failoverCase(t, seed) })
}

// TestSplitBrain: a cut replication link makes each host suspect the
// other. With the witness the first claim wins and the other host stops
// its copy or stays passive: one copy sends. With ha.fencing = "none" both
// act on their suspicion — the primary releases the output it held, the
// secondary resumes from an older state — and the checks see it.
func TestSplitBrain(t *testing.T) {
	for _, fencing := range []string{"witness", "none"} {
		t.Run(fencing, func(t *testing.T) {
			// Few keys, so that the clients soon read what was lost.
			cfg := smallFailover(t, 3, sim.Millisecond, "link-loss", "primary", fencing, "client[0].kv.keys=8", "client[1].kv.keys=8")
			r, err := Run(cfg, Options{})
			require.NoError(t, err)
			fo := r.scen.(*haNIC).fo
			if fencing == "witness" {
				// Whichever claim came first won: the secondary activated
				// and the primary stopped its copy, or the primary runs on
				// unprotected and the secondary stays passive.
				failoverInvariants(t, r, "link-loss")
				require.Equal(t, fo.activated, fo.terms[0].resigned)
				require.Equal(t, 1.0, runStat(t, r, "failover.witness", "claims_refused"))
				require.Positive(t, runStat(t, r, "clients.c0", "responses"))
				return
			}
			// Both hosts act: the primary releases output whose state the
			// secondary never got, and the clients see state go back.
			require.True(t, fo.activated)
			require.True(t, fo.terms[0].claimed[0] && fo.terms[0].claimed[1])
			require.Positive(t, runStat(t, r, "failover", "lost_output")+runStat(t, r, "failover", "two_copies"))
			require.Positive(t, runStat(t, r, "clients.c0.kv", "mismatches")+runStat(t, r, "clients.c1.kv", "mismatches"))
		})
	}
}

// TestFailoverNeedsOutputCommit: without output buffering the primary's
// responses leave before their state is on the secondary, so a crash
// loses state the clients have seen: the checks catch it.
func TestFailoverNeedsOutputCommit(t *testing.T) {
	caught := 0
	for seed := range uint64(6) {
		cfg := smallFailover(t, seed, 2*sim.Millisecond, "host-crash", "primary", "witness", `nic.buffering="none"`)
		r, err := Run(cfg, Options{})
		require.NoError(t, err)
		if runStat(t, r, "failover", "lost_output") > 0 {
			caught++
		}
	}
	require.Positive(t, caught)
}

// TestSecondaryFailure: when the secondary crashes the primary suspects
// it, wins the claim and runs on unprotected: the output it held is
// released and its responses no longer wait for checkpoints.
func TestSecondaryFailure(t *testing.T) {
	cfg := smallFailover(t, 1, 2*sim.Millisecond, "host-crash", "secondary", "witness", "fault[0].at=5ms", "fault[0].within=0s")
	r, err := Run(cfg, Options{})
	require.NoError(t, err)
	failoverInvariants(t, r, "secondary crash")
	fo := r.scen.(*haNIC).fo
	require.False(t, fo.activated)
	require.True(t, r.scen.(*haNIC).backup.Stopped())
	// After the primary runs unprotected a response takes microseconds,
	// not a checkpoint interval: most answers come fast.
	require.Less(t, runStat(t, r, "clients.c0", "latency.p50"), float64(200*sim.Microsecond))
}

// TestFailoverDeterministic: a failover run gives byte-identical files.
func TestFailoverDeterministic(t *testing.T) {
	requireSameRuns(t, smallFailover(t, 5, sim.Millisecond, "partition", "primary", "witness"), nil)
}

// requireSameRuns runs cfg twice and requires byte-identical output
// files (meta.json aside: it records the host and the wall time); check,
// if set, looks at each run first.
func requireSameRuns(t *testing.T, cfg configs.Config, check func(*Result)) {
	t.Helper()
	var outs [2][]outFile
	for i := range outs {
		r, err := Run(cfg, Options{})
		require.NoError(t, err)
		if check != nil {
			check(r)
		}
		files, err := r.files()
		require.NoError(t, err)
		for _, f := range files {
			if f.name != "meta.json" {
				outs[i] = append(outs[i], f)
			}
		}
	}
	require.Equal(t, outs[0], outs[1])
}

// TestFailoverToSpare: with ha.after_failover = "spare" the VMs activated
// on host1 are protected again onto host2 — their whole images copied
// first, then a checkpoint every interval — so that when host1 crashes
// too they fail over to host2, with every invariant kept.
func TestFailoverToSpare(t *testing.T) {
	cfg := failoverHost(t, "run.duration=450ms", `ha.after_failover="spare"`,
		`fault[1].kind="host-crash"`, `fault[1].host="secondary"`, "fault[1].at=350ms")
	r, err := Run(cfg, Options{})
	require.NoError(t, err)
	failoverInvariants(t, r, "two crashes")
	fo := r.scen.(*haNIC).fo
	require.Len(t, fo.terms, 2)
	t1 := fo.terms[1]
	require.Equal(t, 1, t1.pri.n)
	require.Equal(t, 2, t1.sec.n)
	require.Same(t, fo.hosts[2], fo.active)
	require.Len(t, fo.copies(), 2)
	// The image copy: 64 MiB over the 1.25 GB/s link, 10 us away.
	var copied, activated1 sim.Time
	for _, m := range fo.timeline {
		switch {
		case strings.HasPrefix(m.what, "host2 holds the protected VMs' images"):
			copied = m.at
		case strings.HasPrefix(m.what, "host1 runs the protected VMs"):
			activated1 = m.at
		}
	}
	require.Equal(t, activated1+sim.BytesTime(64<<20, 1_250_000_000)+10*sim.Microsecond, copied)
	require.Positive(t, runStat(t, r, "host1.backup", "commits"))
	require.Zero(t, runStat(t, r, "host1.backup", "image_mismatches"))
	require.Equal(t, 2.0, runStat(t, r, "failover", "failovers"))
	require.Positive(t, runStat(t, r, "host2.vm.kv.net", "sent"))
	require.Equal(t, t1.backup.Backed(), fo.hosts[2].epochs)
}

// TestSpareNotReady: host1 crashing while it still copies the images to
// the spare leaves no complete backup: host2 does not activate anything.
func TestSpareNotReady(t *testing.T) {
	cfg := failoverHost(t, "run.duration=300ms", `ha.after_failover="spare"`,
		`fault[1].kind="host-crash"`, `fault[1].host="secondary"`, "fault[1].at=160ms")
	r, err := Run(cfg, Options{})
	require.NoError(t, err)
	failoverInvariants(t, r, "crash during the copy")
	fo := r.scen.(*haNIC).fo
	require.Nil(t, fo.hosts[2].hw)
	require.False(t, fo.terms[1].ready)
	require.Equal(t, 1.0, runStat(t, r, "failover", "failovers"))
}

// TestNICReset: a reset of the primary's adapter loses the output it held
// and what was on its way; the drivers post their rings again and the
// service goes on — the kv clients' retransmissions are answered, their
// records still agree. The synthetic service VMs of ha-nic recover too.
func TestNICReset(t *testing.T) {
	cfg := failoverHost(t, "run.duration=400ms", "ha.failover=false", `fault[0].kind="nic-reset"`, "fault[0].duration=2ms")
	r, err := Run(cfg, Options{})
	require.NoError(t, err)
	failoverInvariants(t, r, "nic reset")
	require.Positive(t, runStat(t, r, "host0.nic", "lost_in_reset"))
	require.Equal(t, 1.0, runStat(t, r, "host0.nic", "resets"))
	require.Positive(t, runStat(t, r, "clients.c0", "retransmissions"))
	require.Zero(t, runStat(t, r, "clients.c0", "lost"))
	require.Less(t, runStat(t, r, "clients.c0", "unanswered"), 10.0, "answered after the reset")
	require.False(t, r.scen.(*haNIC).fo.activated)

	syn, err := configs.Load("ha-nic", []string{"run.duration=300ms", `fault[0].kind="nic-reset"`, "fault[0].at=100ms", "fault[0].duration=1ms"})
	require.NoError(t, err)
	r, err = Run(syn, Options{})
	require.NoError(t, err)
	require.Equal(t, 1.0, runStat(t, r, "host0.nic", "resets"))
	require.Zero(t, runStat(t, r, "network.output_commit", "violations"))
	served := func(r *Result) float64 { return runStat(t, r, "clients.c-web0", "responses") }
	base, err := Run(func() configs.Config { c := syn; c.Faults = nil; return c }(), Options{})
	require.NoError(t, err)
	require.Greater(t, served(r), 0.8*served(base), "web0 serves on after the reset")
}

// TestLinkLossRestored: a cut shorter than the failure detector's timeout
// loses a checkpoint or its acknowledgement; when the link is back a
// whole-image checkpoint resynchronises the secondary, replication and
// output go on, and every invariant holds.
func TestLinkLossRestored(t *testing.T) {
	cfg := smallFailover(t, 2, sim.Millisecond, "link-loss", "primary", "witness", "fault[0].at=5ms", "fault[0].within=0s",
		"fault[0].duration=300us")
	r, err := Run(cfg, Options{})
	require.NoError(t, err)
	failoverInvariants(t, r, "short cut")
	require.False(t, r.scen.(*haNIC).fo.activated)
	require.Equal(t, 1.0, runStat(t, r, "host0.backup", "resyncs"))
	// The whole image (16 MiB, 13 ms on the link) holds the output back a
	// while; then checkpoints and commits go on.
	cps := runStat(t, r, "host0.backup", "checkpoints")
	require.Greater(t, cps, 6.0, "checkpoints after the cut")
	require.GreaterOrEqual(t, runStat(t, r, "host0.backup", "commits"), cps-1, "all acknowledged but the last")
	require.Less(t, runStat(t, r, "clients.c0", "unanswered"), 10.0)
	require.Positive(t, runStat(t, r, "replication.to_secondary", "lost_messages")+runStat(t, r, "replication.to_primary", "lost_messages"))
}
