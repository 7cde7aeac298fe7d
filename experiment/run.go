package experiment

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/sim"
)

// Version is twinsim's version, written into every meta.json.
const Version = "0.1.0"

// Options are run settings that are not part of the scenario and so do not
// change its results.
type Options struct {
	Trace bool // record a Chrome/Perfetto trace
}

// Result is a finished run.
type Result struct {
	Config  configs.Config
	Env     *sim.Env
	Wall    time.Duration // host time spent in the engine
	SimTime sim.Time      // simulated time reached
	scen    scenario
	cfgTOML []byte
}

// scenario is what a run simulates (run.scenario).
type scenario interface {
	start()
	summary(w io.Writer, r *Result)
	files() []outFile // besides config, stats and meta
	// failure is a failure of the simulation itself that stopped the run
	// (an unsupported system call in strict mode), not of a guest.
	failure() error
}

// Run builds the scenario described by cfg, runs it for cfg.Run.Duration of
// simulated time and returns the result.
func Run(cfg configs.Config, opt Options) (*Result, error) { return run(cfg, opt, nil) }

// run is Run, calling prepare (if set) with the scenario before it starts.
func run(cfg configs.Config, opt Options, prepare func(scenario)) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := configs.Dump(&buf, cfg); err != nil {
		return nil, fmt.Errorf("dumping the effective configuration: %w", err)
	}
	env := sim.NewEnv(uint64(cfg.Run.Seed))
	if opt.Trace {
		env.Tracer = sim.NewTracer()
	}
	scen, err := buildScenario(env, cfg)
	if err != nil {
		return nil, err
	}
	if prepare != nil {
		prepare(scen)
	}
	scen.start()
	begin := time.Now()
	env.Engine.RunUntil(sim.Time(cfg.Run.Duration))
	env.End()
	wall := time.Since(begin)
	simTime := env.Engine.Now()
	if err := scen.failure(); err != nil {
		return nil, err
	}
	if exec, ok := scen.(*execHost); ok {
		simTime = exec.endTime(simTime)
	}
	return &Result{Config: cfg, Env: env, Wall: wall, SimTime: simTime, scen: scen, cfgTOML: buf.Bytes()}, nil
}

// lookupValue reads a statistic of env (0 if there is none).
func lookupValue(env *sim.Env, path, name string) float64 {
	v, _ := env.Stats.Lookup(path, name)
	return v
}

// summaryHeader is the first line of every scenario's summary.
func summaryHeader(w io.Writer, r *Result) {
	fmt.Fprintf(w, "twinsim %s: scenario %q, seed %d: %s simulated in %.2fs wall (%d events)\n",
		Version, r.Config.Run.Name, r.Config.Run.Seed, fmtTime(float64(r.SimTime)), r.Wall.Seconds(), r.Env.Engine.Handled())
}

// buildScenario builds what cfg.Run.Scenario names.
func buildScenario(env *sim.Env, cfg configs.Config) (scenario, error) {
	switch cfg.Run.Scenario {
	case "exec":
		return buildExecHost(env, cfg)
	case "ha-nic":
		return buildHANIC(env, cfg)
	}
	return buildBackupHost(env, cfg, nil)
}

// Name returns the run directory name: the scenario name, the seed and the
// first 8 hex digits of the SHA-256 of the effective configuration.
func (r *Result) Name() string { return runName(r.Config, r.cfgTOML) }

// meta is the content of meta.json: everything about a run that is not a
// function of its configuration.
type meta struct {
	Version     string  `json:"twinsim_version"`
	Name        string  `json:"name"`
	Seed        uint64  `json:"seed"`
	ConfigHash  string  `json:"config_sha256"`
	Started     string  `json:"finished_utc"`
	WallSeconds float64 `json:"wall_seconds"`
	SimTimePS   uint64  `json:"sim_time_ps"`
	Events      uint64  `json:"events"`
	EventsPerS  float64 `json:"events_per_wall_second"`
	Host        struct {
		Hostname string `json:"hostname"`
		OS       string `json:"os"`
		Arch     string `json:"arch"`
		CPUs     int    `json:"cpus"`
		Go       string `json:"go"`
	} `json:"host"`
}

// WriteDir writes the run directory under root and returns its path. The
// directory is assembled under a temporary name and renamed into place, so a
// run directory that exists is complete.
func (r *Result) WriteDir(root string) (string, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(root, "."+r.Name()+".tmp-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	files, err := r.files()
	if err != nil {
		return "", err
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(tmp, f.name), f.data, 0o644); err != nil {
			return "", err
		}
	}
	dst := filepath.Join(root, r.Name())
	if err := publishDir(tmp, dst); err != nil {
		return "", fmt.Errorf("publishing %s: %w", dst, err)
	}
	return dst, nil
}

type outFile struct {
	name string
	data []byte
}

// files renders every output file of the run in memory.
func (r *Result) files() ([]outFile, error) {
	var out []outFile
	out = append(out, outFile{"config.toml", r.cfgTOML})
	var js, csv bytes.Buffer
	if err := r.Env.Stats.WriteJSON(&js); err != nil {
		return nil, fmt.Errorf("stats.json: %w", err)
	}
	if err := r.Env.Stats.WriteCSV(&csv); err != nil {
		return nil, fmt.Errorf("stats.csv: %w", err)
	}
	out = append(out, outFile{"stats.json", js.Bytes()}, outFile{"stats.csv", csv.Bytes()})
	if r.Config.Output.Series {
		for _, s := range r.Env.Stats.SeriesList() {
			var b bytes.Buffer
			if err := s.Series.WriteCSV(&b); err != nil {
				return nil, err
			}
			out = append(out, outFile{"series-" + s.Path + "." + s.Name + ".csv", b.Bytes()})
		}
	}
	out = append(out, r.scen.files()...)
	m := meta{Version: Version, Name: r.Name(), Seed: uint64(r.Config.Run.Seed), Started: time.Now().UTC().Format(time.RFC3339),
		WallSeconds: r.Wall.Seconds(), SimTimePS: uint64(r.SimTime), Events: r.Env.Engine.Handled()}
	sum := sha256.Sum256(r.cfgTOML)
	m.ConfigHash = hex.EncodeToString(sum[:])
	if r.Wall > 0 {
		m.EventsPerS = float64(m.Events) / r.Wall.Seconds()
	}
	m.Host.Hostname, _ = os.Hostname()
	m.Host.OS, m.Host.Arch, m.Host.CPUs, m.Host.Go = runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	out = append(out, outFile{"meta.json", append(mj, '\n')})
	return out, nil
}

// WriteTrace writes the Chrome/Perfetto trace to path atomically. The run
// must have been made with Options.Trace.
func (r *Result) WriteTrace(path string) error {
	if r.Env.Tracer == nil {
		return fmt.Errorf("the run was made without tracing")
	}
	var b bytes.Buffer
	if err := r.Env.Tracer.WriteJSON(&b); err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return WriteFileAtomic(path, b.Bytes())
}

// WriteSummary prints a short human summary of the run.
func (r *Result) WriteSummary(w io.Writer) {
	r.scen.summary(w, r)
}
