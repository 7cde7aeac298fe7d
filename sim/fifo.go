package sim

// FIFO is a first-in, first-out queue that reuses its storage: once the
// drained front is at least half the slice, a push moves the rest down, so a
// queue in steady state does not allocate. The zero value is empty.
type FIFO[T any] struct {
	items []T
	head  int
}

// Len returns the number of items queued.
func (q *FIFO[T]) Len() int { return len(q.items) - q.head }

// Push appends v.
func (q *FIFO[T]) Push(v T) {
	if q.head > 0 && q.head >= len(q.items)/2 {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, v)
}

// Front returns the oldest item, which must exist.
func (q *FIFO[T]) Front() *T { return &q.items[q.head] }

// At returns the i-th oldest item.
func (q *FIFO[T]) At(i int) *T { return &q.items[q.head+i] }

// Pop removes and returns the oldest item, which must exist.
func (q *FIFO[T]) Pop() T {
	v := q.items[q.head]
	var zero T
	q.items[q.head] = zero
	q.head++
	return v
}
