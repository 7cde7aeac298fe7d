package cache

import "github.com/twinsim/twinsim/sim"

// Write streaming (ARM's read-allocate mode). A level normally allocates
// the line of a store that misses, reading it from below (an RFO) only for
// the core to overwrite it. A core filling memory (memset, a copy's
// destination) writes whole lines before their fills even arrive; after
// Config.WriteStreaming such lines in a row, the level stops allocating
// on store misses: the stores gather in a line-sized write-combining
// buffer and the line goes to the level below, which takes it without
// reading it (it allocates it, or streams it on if it is streaming too;
// below the last level it is a DRAM write). A level below counts the
// whole lines streamed into it and streams once it has taken
// Config.WriteStreaming of them. The mode ends when a streamed line is
// left before it was written in full, or a load touches the line being
// gathered, and the levels below stop with it. ARM documents the mode for its Cortex-A cores (for
// example the Cortex-A53 TRM, "read allocate mode", and the Cortex-A7's
// thresholds of 3 lines for the L1 and 127 for the L2).
//
// Streamed stores bypass the level's rows, so they could carry no
// image-modification flag: ports with a modification log never stream.

// wstream is one port's write-streaming state at one level.
type wstream struct {
	on    bool
	run   int      // consecutive lines written in full (before their fills arrived, or as streamed from above)
	valid bool     // line is being watched (not streaming) or gathered (streaming)
	line  uint64   // that line
	ready sim.Time // watched: when its fill arrives
	words uint64   // chunks of it written so far
}

// chunk returns the bit of a's chunk in its line's mask and the mask of a
// whole line: a line is tracked in at most 64 chunks of at least 8 bytes.
func (p *Port) chunk(addr uint64) (bit, full uint64) {
	size := max(8, p.lineSize/64)
	n := p.lineSize / size
	full = ^uint64(0)
	if n < 64 {
		full = 1<<n - 1
	}
	return 1 << ((addr & (p.lineSize - 1)) / size), full
}

// streamStore tries a store that reached write-back level i at at (its
// latency not yet added) while the level streams: a store to a line the
// level holds is not streamed (false); otherwise the store joins the line
// being gathered, or starts a new one, whose line is written out below
// through the level's write buffer. It returns when the store is done.
func (p *Port) streamStore(i int, at sim.Time, line uint64, a *Access) (sim.Time, bool) {
	s, c := &p.ws[i], p.levels[i]
	if !s.on || c.find(line) >= 0 {
		return 0, false
	}
	bit, full := p.chunk(a.Addr)
	done := at + p.freq.CyclesToTime(c.cfg.Latency)
	if s.valid && s.line == line {
		s.words |= bit
		return done, true
	}
	if s.valid && s.words != full {
		// A partial line ends the stream; this store allocates as usual.
		p.stopStreaming(i)
		return 0, false
	}
	s.valid, s.line, s.words = true, line, bit
	c.streamedLines.Inc()
	if c.wbuf != nil {
		done = max(done, c.takeWriteBuffer(done, p.drainTime(i+1)))
	}
	p.streamOut(i+1, line, a, done)
	return done, true
}

// streamOut delivers a streamed (whole) line to level i and below at t.
// Other cores' copies are invalidated when it leaves the private levels,
// as for a device's write; a write-back level that holds the line takes
// it, one that streams passes it on, any other allocates it without
// reading it; below the last level it is a posted DRAM write.
func (p *Port) streamOut(i int, line uint64, a *Access, t sim.Time) {
	for ; i < len(p.levels); i++ {
		if i == p.private && p.dir != nil {
			p.dir.writeAround(line)
		}
		c := p.levels[i]
		if !c.wb {
			continue
		}
		if r := c.find(line); r >= 0 {
			c.writeHits.Inc()
			p.mark(c, r, a)
			return
		}
		c.writeMisses.Inc()
		if c.cfg.WriteStreaming > 0 {
			// Lines streamed from above are whole: once the run has
			// reached the threshold they pass on; until then each is
			// allocated and continues the run.
			s := &p.ws[i]
			if s.on {
				c.streamedLines.Inc()
				continue
			}
			if s.run++; s.run >= c.cfg.WriteStreaming {
				s.on = true
				c.streamingEntries.Inc()
			}
		}
		excl := false
		if p.dir != nil && i < p.private {
			p.dir.own(p, line, t)
			p.agent.setExcl(line)
			excl = true
		}
		p.mark(c, p.install(i, line, a.VM, t, t, excl), a)
		return
	}
	if p.dir != nil && p.private == len(p.levels) {
		p.dir.writeAround(line)
	}
	p.dramAccess(t, line, true, true)
}

// watchStore updates the detection of write streaming at level i after a
// store to line at at: a store miss (allocated: its fill arrives at ready)
// ends the watch of the previous line, counting it if the core wrote all
// of it before its fill, and starts watching line; a store to the watched
// line before its fill marks its chunk.
func (p *Port) watchStore(i int, line uint64, a *Access, miss bool, at, ready sim.Time) {
	s, c := &p.ws[i], p.levels[i]
	bit, full := p.chunk(a.Addr)
	if !miss {
		if s.valid && s.line == line && at < s.ready {
			s.words |= bit
		}
		return
	}
	if s.valid {
		if s.words == full {
			s.run++
		} else {
			s.run = 0
		}
	}
	s.valid, s.line, s.ready, s.words = true, line, ready, bit
	if s.run >= c.cfg.WriteStreaming {
		s.on, s.valid = true, false
		c.streamingEntries.Inc()
	}
}

// loadEndsStream ends write streaming at the level gathering line: a load
// wants the line being written.
func (p *Port) loadEndsStream(line uint64) {
	for i := range p.levels {
		if s := &p.ws[i]; s.on && s.valid && s.line == line {
			p.stopStreaming(i)
			return
		}
	}
}

// stopStreaming ends write streaming at level i and, since what they
// stream comes from it, at the levels below: each starts counting again.
func (p *Port) stopStreaming(i int) {
	for j := i; j < len(p.levels); j++ {
		p.ws[j] = wstream{}
	}
}
