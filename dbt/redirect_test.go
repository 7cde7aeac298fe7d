package dbt

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedirector(t *testing.T) {
	r := newRedirector(16)
	a, b, c := uint64(0x70000), uint64(0x71000), uint64(0x7f000) // guest pages of host page 7
	r.update([]uint64{a, b, c})
	require.Equal(t, 3, r.Pages())
	require.Equal(t, uint64(RedirectBase+0x123), r.HostAddr(a+0x123))
	require.Equal(t, uint64(RedirectBase+0x1008), r.HostAddr(b+8))
	require.Equal(t, uint64(RedirectBase+0x2000), r.HostAddr(c))
	require.Equal(t, uint64(0x72000), r.HostAddr(0x72000), "a page not mapped in a mixed host page stays put")
	require.Equal(t, uint64(0x80010), r.HostAddr(0x80010), "a uniform host page is mapped directly")
	// b's host page stays mixed but b goes (unmapped); a new page comes and
	// takes b's frame.
	d := uint64(0x90000)
	r.update([]uint64{a, c, d})
	require.Equal(t, uint64(RedirectBase+0x1000), r.HostAddr(d), "the freed frame is reused")
	require.Equal(t, uint64(b), r.HostAddr(b))
	// Host page 7 turns uniform again: mapped directly once more.
	r.update([]uint64{d})
	require.Equal(t, a, r.HostAddr(a))
	require.Equal(t, 1, r.Pages())
	require.Equal(t, uint64(4), r.Allocated)
}

// TestRedirectionOfAProgram: a static program's shared text and data page
// is redirected page by page; with 4 KiB host pages nothing is.
func TestRedirectionOfAProgram(t *testing.T) {
	_, _, st, m := runWith(t, MachineConfig{Strategy: Never}, "sieve", "1000")
	require.Positive(t, st.RedirectedPages)
	host := func(m *Machine, va uint64) uint64 {
		pa, ok := m.HostAddress(va)
		require.True(t, ok)
		return pa
	}
	require.GreaterOrEqual(t, host(m, 0x70000+0xff8), uint64(RedirectBase), "the text/data host page is mixed")
	require.Equal(t, uint64(0x20000), host(m, 0x20000), "all-text host pages are mapped directly")
	_, _, st4, m4 := runWith(t, MachineConfig{HostPageSize: 4 << 10}, "sieve", "1000")
	require.Zero(t, st4.RedirectedPages)
	require.Equal(t, uint64(0x70ff8), host(m4, 0x70ff8))
}
