#!/bin/sh
# shard.sh — print the `twinsim sweep --shard` value "k/n" (1 <= k <= n) of
# this task of a cluster job, from the scheduler's environment:
#
#   Slurm job array  (sbatch --array=MIN-MAX[:STEP][%LIMIT])
#     SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT,
#     optionally SLURM_ARRAY_TASK_STEP (default 1); without
#     SLURM_ARRAY_TASK_COUNT, n is computed from SLURM_ARRAY_TASK_MAX.
#     k = (ID - MIN) / STEP + 1 and n = COUNT, so an array may start at 0,
#     at 1 or anywhere else. The array must be one range: a list such as
#     --array=1,4,9 is refused.
#     With SHARD_COUNT set as well, the array indices are the shard
#     numbers themselves: k = SLURM_ARRAY_TASK_ID, n = SHARD_COUNT. This
#     reruns chosen shards of an earlier array, e.g. SHARD_COUNT=8 with
#     --array=3,5 runs shards 3/8 and 5/8.
#
#   Kubernetes Indexed Job  (completionMode: Indexed)
#     JOB_COMPLETION_INDEX (0-based, set by Kubernetes) and SHARD_COUNT,
#     which the Job must set to its spec.completions (Kubernetes does not
#     expose that number to the pod). k = JOB_COMPLETION_INDEX + 1, n =
#     SHARD_COUNT.
#
# Slurm is used when SLURM_ARRAY_TASK_ID is set, Kubernetes when
# JOB_COMPLETION_INDEX is. Exit status 2, with a message on stderr, when the
# variables are missing or inconsistent. POSIX sh: runs under dash, busybox
# and bash alike.
set -eu

die() {
	echo "shard.sh: $*" >&2
	exit 2
}

# nat NAME VALUE: VALUE must be a non-negative decimal integer.
nat() {
	case $2 in
	'' | *[!0-9]*) die "$1=\"$2\" is not a non-negative integer" ;;
	esac
}

if [ -n "${SLURM_ARRAY_TASK_ID:-}" ] && [ -n "${SHARD_COUNT:-}" ]; then
	# Explicit numbering: the array indices are the shard numbers.
	nat SLURM_ARRAY_TASK_ID "$SLURM_ARRAY_TASK_ID"
	nat SHARD_COUNT "$SHARD_COUNT"
	k=$SLURM_ARRAY_TASK_ID
	n=$SHARD_COUNT
elif [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then
	id=$SLURM_ARRAY_TASK_ID
	min=${SLURM_ARRAY_TASK_MIN:-}
	step=${SLURM_ARRAY_TASK_STEP:-1}
	max=${SLURM_ARRAY_TASK_MAX:-}
	count=${SLURM_ARRAY_TASK_COUNT:-}
	nat SLURM_ARRAY_TASK_ID "$id"
	[ -n "$min" ] || die "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_MIN is not; run this in a Slurm job array (sbatch --array=1-N)"
	nat SLURM_ARRAY_TASK_MIN "$min"
	nat SLURM_ARRAY_TASK_STEP "$step"
	[ "$step" -ge 1 ] || die "SLURM_ARRAY_TASK_STEP=$step must be at least 1"
	span=
	if [ -n "$max" ]; then
		nat SLURM_ARRAY_TASK_MAX "$max"
		[ "$max" -ge "$min" ] || die "SLURM_ARRAY_TASK_MAX=$max is below SLURM_ARRAY_TASK_MIN=$min"
		span=$(((max - min) / step + 1))
	fi
	if [ -n "$count" ]; then
		nat SLURM_ARRAY_TASK_COUNT "$count"
		n=$count
		# A list (--array=1,4,9) has a count that its MIN, MAX and STEP do
		# not describe: its tasks cannot be numbered 1..n.
		[ -z "$span" ] || [ "$span" -eq "$n" ] ||
			die "job array $min-$max:$step has $span indices but SLURM_ARRAY_TASK_COUNT=$n; use one range such as --array=1-$n"
	elif [ -n "$span" ]; then
		n=$span
	else
		die "neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX is set; cannot tell the number of shards"
	fi
	[ "$id" -ge "$min" ] || die "SLURM_ARRAY_TASK_ID=$id is below SLURM_ARRAY_TASK_MIN=$min"
	[ $(((id - min) % step)) -eq 0 ] ||
		die "SLURM_ARRAY_TASK_ID=$id is not MIN=$min plus a multiple of STEP=$step; use one range such as --array=1-$n"
	k=$(((id - min) / step + 1))
elif [ -n "${JOB_COMPLETION_INDEX:-}" ]; then
	nat JOB_COMPLETION_INDEX "$JOB_COMPLETION_INDEX"
	[ -n "${SHARD_COUNT:-}" ] || die "JOB_COMPLETION_INDEX is set but SHARD_COUNT is not; set SHARD_COUNT to the Job's spec.completions"
	nat SHARD_COUNT "$SHARD_COUNT"
	k=$((JOB_COMPLETION_INDEX + 1))
	n=$SHARD_COUNT
else
	die "not a Slurm array task (SLURM_ARRAY_TASK_ID) nor a Kubernetes Indexed Job pod (JOB_COMPLETION_INDEX)"
fi

[ "$n" -ge 1 ] || die "the number of shards is $n; it must be at least 1"
if [ "$k" -lt 1 ] || [ "$k" -gt "$n" ]; then
	die "shard $k of $n is out of range; the task index does not match the number of tasks"
fi
echo "$k/$n"
