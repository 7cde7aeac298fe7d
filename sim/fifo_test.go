package sim

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestFIFOProperty: any sequence of pushes and pops behaves as a slice
// queue, and a steady state stops allocating.
func TestFIFOProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var q FIFO[int]
		var model []int
		n := 0
		for _, push := range rapid.SliceOf(rapid.Bool()).Draw(rt, "ops") {
			if push || len(model) == 0 {
				q.Push(n)
				model = append(model, n)
				n++
				continue
			}
			require.Equal(rt, model[0], *q.Front())
			require.Equal(rt, model[0], q.Pop())
			model = model[1:]
			require.Equal(rt, len(model), q.Len())
			for i, v := range model {
				require.Equal(rt, v, *q.At(i))
			}
		}
	})
	var q FIFO[int]
	allocs := testing.AllocsPerRun(100, func() {
		for i := range 8 {
			q.Push(i)
		}
		for range 8 {
			q.Pop()
		}
	})
	require.Zero(t, allocs)
}
