package cache

// minHeap is a binary min-heap of T in the order less gives (passed to
// each call, so that one type serves orders that need their owner's
// state). The weave keeps each agent's waiting accesses in one, and its
// agents' queues in another. Unlike container/heap it stores T itself,
// so pushing an access does not allocate.
type minHeap[T any] struct{ items []T }

func (h *minHeap[T]) len() int { return len(h.items) }

// top returns the least item; the heap must not be empty.
func (h *minHeap[T]) top() *T { return &h.items[0] }

func (h *minHeap[T]) reset() { h.items = h.items[:0] }

func (h *minHeap[T]) push(x T, less func(a, b *T) bool) {
	h.items = append(h.items, x)
	for i := len(h.items) - 1; i > 0; {
		p := (i - 1) / 2
		if !less(&h.items[i], &h.items[p]) {
			break
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

// pop removes the least item.
func (h *minHeap[T]) pop(less func(a, b *T) bool) {
	n := len(h.items) - 1
	h.items[0] = h.items[n]
	h.items = h.items[:n]
	if n > 0 {
		h.down(0, less)
	}
}

// down restores the order below i after items[i] grew.
func (h *minHeap[T]) down(i int, less func(a, b *T) bool) {
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && less(&h.items[r], &h.items[l]) {
			m = r
		}
		if !less(&h.items[m], &h.items[i]) {
			return
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
}
