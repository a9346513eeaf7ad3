# kernel.md from the KWO-BENCH lines of `tests/vm/run.sh bench` (see
# tests/vm/bench.sh, which passes list, rounds, samples, rt_samples,
# rt_batch, head, note and smoke). Input lines:
#   KWO-BENCH NAME round=R bench: where=user|kernel ... min_ns=X median_ns=Y
#       [inside_min_ns=X inside_median_ns=Y] result=V
# Per workload and path: the fastest call of all rounds, and the median of
# the rounds' medians. Exit status 1 (and no report on stdout is to be
# kept) when a measurement is missing or a result is not the host's.

function fail(msg) {
	print "bench report: " msg > "/dev/stderr"
	failed = 1
}

# Median of v[1..k] (sorted in place; k is small).
function median(v, k,    i, j, t) {
	for (i = 2; i <= k; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
}

function fmt(ns) {
	if (ns >= 1e9) return sprintf("%.2f s", ns / 1e9)
	if (ns >= 1e6) return sprintf("%.1f ms", ns / 1e6)
	if (ns >= 1e3) return sprintf("%.1f µs", ns / 1e3)
	return sprintf("%.0f ns", ns)
}

# The median over rounds of field f ("median_ns", "inside_median_ns") for
# workload w on path p.
function round_median(w, p, f,    i, v) {
	for (i = 1; i <= cnt[w, p]; i++)
		v[i] = val[w, p, f, i]
	return median(v, cnt[w, p])
}

BEGIN {
	while ((getline line < list) > 0) {
		split(line, f, " ")
		order[++nw] = f[1]
		n[f[1]] = f[4]
		expect[f[1]] = f[5]
	}
	if (nw == 0)
		fail("no workloads in " list)
	expect["round_trip"] = 7
}

$1 == "KWO-BENCH" {
	w = $2
	split("", kv)
	for (i = 4; i <= NF; i++) {
		eq = index($i, "=")
		if (eq)
			kv[substr($i, 1, eq - 1)] = substr($i, eq + 1)
	}
	p = kv["where"]
	if (!(w in expect) || (p != "user" && p != "kernel")) {
		fail("unexpected line: " $0)
		next
	}
	if (kv["result"] != expect[w])
		fail(w " (" p "): result " kv["result"] ", the host computed " expect[w])
	k = ++cnt[w, p]
	if (k == 1 || kv["min_ns"] + 0 < best[w, p, "min_ns"])
		best[w, p, "min_ns"] = kv["min_ns"] + 0
	if (k == 1 || kv["inside_min_ns"] + 0 < best[w, p, "inside_min_ns"])
		best[w, p, "inside_min_ns"] = kv["inside_min_ns"] + 0
	val[w, p, "median_ns", k] = kv["median_ns"] + 0
	val[w, p, "inside_median_ns", k] = kv["inside_median_ns"] + 0
}

# One table row; adds the ratios to the geomean sums.
function workload_row(w,    um, km, ud, kd, kid, rf, rm) {
	um = best[w, "user", "min_ns"]; km = best[w, "kernel", "min_ns"]
	ud = round_median(w, "user", "median_ns")
	kd = round_median(w, "kernel", "median_ns")
	kid = round_median(w, "kernel", "inside_median_ns")
	if (um <= 0 || ud <= 0) {
		fail(w ": a userspace time of 0 ns")
		return
	}
	rf = km / um; rm = kd / ud
	logf += log(rf); logm += log(rm); ng++
	printf "| %s | %s | %s / %s | %s / %s | %s / %s | **%.2f** | %.2f |\n", w, n[w],
		fmt(um), fmt(ud), fmt(km), fmt(kd),
		fmt(best[w, "kernel", "inside_min_ns"]), fmt(kid), rf, rm
}

function round_trip(    um, km, ud, kd) {
	um = best["round_trip", "user", "min_ns"]
	km = best["round_trip", "kernel", "min_ns"]
	ud = round_median("round_trip", "user", "median_ns")
	kd = round_median("round_trip", "kernel", "median_ns")
	print "\n## Invoke round trip\n"
	printf "Calls of `(func (param i32) (result i64))` returning its argument, %d samples of %d calls\n", rt_samples, rt_batch
	printf "per round and path, per call: fastest sample / median of the rounds' medians.\n\n"
	print "| path | per call | × userspace (fastest) | × userspace (median) |"
	print "|---|---:|---:|---:|"
	printf "| userspace: `Instance::invoke` (kwo bench) | %s / %s | 1.00 | 1.00 |\n", fmt(um), fmt(ud)
	printf "| kernel: `KWO_IOC_INVOKE` ioctl round trip (kwo bench --kernel) | %s / %s | **%.2f** | %.2f |\n",
		fmt(km), fmt(kd), km / um, kd / ud
	printf "| of which inside the call, as kwo.ko measures it (`duration_ns`) | %s / %s | %.2f | %.2f |\n",
		fmt(best["round_trip", "kernel", "inside_min_ns"]),
		fmt(round_median("round_trip", "kernel", "inside_median_ns")),
		best["round_trip", "kernel", "inside_min_ns"] / um,
		round_median("round_trip", "kernel", "inside_median_ns") / ud
}

END {
	order[++nw] = "round_trip"
	for (i = 1; i <= nw; i++)
		for (j = 1; j <= 2; j++) {
			p = j == 1 ? "user" : "kernel"
			if (cnt[order[i], p] != rounds)
				fail(order[i] " (" p "): " cnt[order[i], p] + 0 " measurements, " rounds " expected")
		}
	if (failed)
		exit 1
	print "# kwo in the kernel: kwo.ko against the userspace runtime\n"
	print "Written by `tests/vm/run.sh bench` (see `docs/benchmarks.md`, \"In the kernel\").\n"
	if (smoke)
		print "**Smoke run (BENCH_SMOKE=1): tiny sizes, one sample; these numbers mean nothing.**\n"
	print note "\n"
	print head
	printf "- method: the same `.kwo` object and argument through the userspace runtime (`kwo bench`) and\n"
	printf "  through kwo.ko (`kwo bench --kernel`) in one VM, %d rounds per workload, the two paths\n", rounds
	printf "  alternating (which goes first alternates too); each run instantiates once, makes one untimed\n"
	printf "  warm-up call, then %d timed calls: userspace timed around `Instance::invoke`, the kernel around\n", samples
	printf "  the ioctl (monotonic clock). Every result of both paths equals the host's userspace runtime on\n"
	printf "  the same object and n (checked in the guest and again here).\n\n"
	print "## Run time\n"
	print "Per call: fastest of all rounds / median of the rounds' medians. \"inside\" is the time kwo.ko"
	print "measures inside the call (`duration_ns`), without the system call. **Ratio: kwo.ko time /"
	print "userspace time**, from the fastest calls (bold) and from the medians.\n"
	print "| workload | n | userspace | kwo.ko (ioctl) | kwo.ko inside | kernel/user (fastest) | kernel/user (median) |"
	print "|---|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i < nw; i++)
		workload_row(order[i])
	if (ng)
		printf "| **geomean** | | | | | **%.2f** | %.2f |\n", exp(logf / ng), exp(logm / ng)
	round_trip()
	exit failed
}
