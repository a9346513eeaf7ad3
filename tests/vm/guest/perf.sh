# Real perf samples of kwo code in the kernel (sourced by suite.sh after
# obs.sh; tests/vm/run.sh puts perf, its libraries and /perf/hot.kwo in
# the initramfs). perf records `kwo invoke` while /perf/hot.kwo's `hot`
# spins in `burn` inside kwo.ko, then `perf script | kwo perf-map` names
# the samples. Judged: enough samples in the object's code, most of them
# in burn, and every one of them named as an independent lookup (awk, in
# the symbols saved while the instance lived) names it; none named after
# `before` or `after` (they never run, and lie on either side of burn) or
# left unnamed; no sample outside kwo code named. Then what happens to
# the samples once the object is gone: unnamed, with a word on stderr,
# and named again from the saved copy.
#
# The event is cpu-clock, perf's hrtimer-driven software event: x86_64
# under TCG has no PMU for the default cycles event, and cpu-clock samples
# kernel code the same way on every kernel, architecture and accelerator.

perf_fail() { echo "KWO-STEP-FAILED: perf: $*"; fail=1; }
# Where the time goes (TCG is slow): "PHASE SECONDS" words, printed at the end.
perf_t0=$(cut -d' ' -f1 /proc/uptime)
perf_took() { perf_times="$perf_times $1 $(awk -v t0="$perf_t0" '{ printf "%.1fs", $1 - t0 }' /proc/uptime)"; }
PD=/sys/kernel/debug/kwo

# perf_judge SYMBOLS RAW NAMED TAG: judge `perf script | kwo perf-map`
# output (NAMED; RAW: perf script's own) against the hot.kwo ranges in
# SYMBOLS, looked up here independently; failures are printed after TAG.
# Addresses and ranges are 16 hex digits, so they compare as strings;
# offsets come from their low 8 digits (one object's code is far smaller
# than 4 GiB).
perf_judge() {
	awk -v syms="$1" -v tag="$4" '
	function hex(s,   i, v) {
		v = 0
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	BEGIN {
		while ((getline line < syms) > 0) {
			split(line, f, " ")
			if (f[3] !~ /^kwo:hot\.kwo:/) continue
			n++; lo[n] = f[1]; hi[n] = f[2]; nm[n] = f[3]
			if (first == "" || f[1] < first) first = f[1]
			if (last == "" || f[2] > last) last = f[2]
		}
	}
	NR == FNR { raw[FNR] = $0; rawn = FNR; next }
	{
		lines++
		sample = 0
		if (/ cpu-clock/) {
			samples++
			for (k = 1; k < NF; k++) if ($k ~ /^cpu-clock/) break
			ip = $(k + 1); name = $(k + 2)
			want = ""
			for (j = 1; j <= n; j++)
				if (ip >= lo[j] && ip < hi[j]) {
					off = (hex(substr(ip, 9)) - hex(substr(lo[j], 9)) + 4294967296) % 4294967296
					want = sprintf("%s+0x%x", nm[j], off)
				}
			if (ip >= first && ip < last) {
				sample = 1
				in_obj++
				fn = name; sub(/\+0x[0-9a-f]+$/, "", fn); sub(/^kwo:hot\.kwo:/, "", fn)
				count[fn]++
				if (name != want) { wrong++; print tag " misnamed (want " (want == "" ? "a hot.kwo function" : want) "): " $0 }
			}
		}
		if ($0 != raw[FNR] && !sample) { wrong++; print tag " changed outside hot.kwo code: " $0 }
	}
	END {
		if (n == 0) { print tag " no hot.kwo symbols in " syms; exit 1 }
		s = ""
		for (fn in count) s = s " " fn "=" count[fn]
		printf "KWO-PERF: %d samples, %d in hot.kwo code [%s, %s):%s\n", samples, in_obj, first, last, s
		bad = 0
		if (lines != rawn) { print tag " kwo perf-map output has " lines " lines, perf script " rawn; bad = 1 }
		if (in_obj < 20) { print tag " fewer than 20 samples in hot.kwo code"; bad = 1 }
		if (count["burn"] * 10 < in_obj * 9) { print tag " burn has under 90% of the samples in hot.kwo code"; bad = 1 }
		if (count["burn"] * 2 < samples) { print tag " burn has under half of all samples"; bad = 1 }
		for (fn in count)
			if (fn != "burn" && fn != "hot" && fn != "hot[trampoline]") {
				print tag " samples named " fn ", which never runs"; bad = 1
			}
		if (wrong) { print tag " " wrong " lines misnamed"; bad = 1 }
		exit bad
	}' "$2" "$3"
}

mount -t debugfs debugfs /sys/kernel/debug || perf_fail "cannot mount debugfs"

if [ ! -e /proc/sys/kernel/perf_event_paranoid ]; then
	perf_fail "this kernel has no perf events (CONFIG_PERF_EVENTS)"
elif ! perf --version > /tmp/perf.version 2>&1; then
	perf_fail "perf does not run in the guest: $(cat /tmp/perf.version)"
else
	echo "KWO-PERF: $(cat /tmp/perf.version), kernel $(uname -r)"

	# Another instance, loaded first and alive until the end: its code
	# cannot take the place hot.kwo's leaves, so hot.kwo's samples must
	# stay unnamed once hot.kwo is gone (a later load could reuse the
	# addresses, which docs/debugging.md warns about).
	kwo run --kernel --timeout 60s /objects/sleep-rs.kwo 60000 > /tmp/perf-sleep.out 2>&1 &
	sleeper=$!
	# hot spins in the kernel until its budget or a signal ends it.
	kwo invoke --timeout 60s /perf/hot.kwo hot > /tmp/perf-hot.out 2>&1 &
	hot=$!
	i=0
	until grep -q ' kwo:hot\.kwo:burn$' $PD/symbols && grep -q ' kwo:sleep-rs\.kwo:' $PD/symbols; do
		[ $i -lt 200 ] || break
		usleep 50000
		i=$((i + 1))
	done
	grep -q ' kwo:hot\.kwo:burn$' $PD/symbols || perf_fail "hot.kwo never showed in $PD/symbols"
	perf_took loaded

	# The recipe of docs/debugging.md: record, save the symbols while the
	# instance lives, name the samples.
	perf record -e cpu-clock -F 999 --no-buildid --no-buildid-cache -p $hot -o /tmp/perf.data -- sleep 1 > /tmp/perf-record.log 2>&1 ||
		{ perf_fail "perf record failed:"; cat /tmp/perf-record.log; }
	cp $PD/symbols /tmp/perf.syms
	perf_took recorded
	{ perf script -i /tmp/perf.data 2> /tmp/perf-script.log || echo "perf script: rc $?" >> /tmp/perf-script.log; } |
		tee /tmp/perf.txt | kwo perf-map > /tmp/perf.named 2> /tmp/perf-map.err ||
		perf_fail "kwo perf-map failed: $(cat /tmp/perf-map.err)"
	grep -q '^perf script: rc' /tmp/perf-script.log && { perf_fail "perf script failed:"; cat /tmp/perf-script.log; }
	perf_took named
	# SIGTERM: a background job of this shell ignores SIGINT.
	kill -TERM $hot
	wait $hot
	rc=$?
	[ $rc -eq 143 ] || perf_fail "hot.kwo after SIGTERM: rc $rc, '$(cat /tmp/perf-hot.out)' (want 143)"
	perf_took stopped

	perf_judge /tmp/perf.syms /tmp/perf.txt /tmp/perf.named "KWO-STEP-FAILED: perf:" || fail=1
	# The judge's control: symbols whose names are off by one function (as
	# if kwo.ko listed burn's range as before's) must be caught.
	awk '$3 == "kwo:hot.kwo:burn" { $3 = "kwo:hot.kwo:before"; print; next }
	     $3 == "kwo:hot.kwo:before" { $3 = "kwo:hot.kwo:burn" } 1' /tmp/perf.syms > /tmp/perf.swapped
	kwo perf-map --symbols /tmp/perf.swapped < /tmp/perf.txt > /tmp/perf.misnamed 2>/dev/null
	if perf_judge /tmp/perf.swapped /tmp/perf.txt /tmp/perf.misnamed "control:" > /tmp/perf-control.out ||
	   ! grep -q '^control: samples named before, which never runs' /tmp/perf-control.out; then
		perf_fail "the judge missed samples named after the wrong function: $(cat /tmp/perf-control.out)"
	fi
	[ -s /tmp/perf-map.err ] && perf_fail "kwo perf-map warned while hot.kwo lived: $(cat /tmp/perf-map.err)"

	# hot.kwo is gone, sleep-rs.kwo lives: no sample is named (none lies
	# in sleep-rs's code), the lines pass unchanged, and stderr says so.
	grep -q ' kwo:hot\.kwo:' $PD/symbols && perf_fail "hot.kwo still in $PD/symbols after its exit"
	grep -q ' kwo:sleep-rs\.kwo:' $PD/symbols ||
		perf_fail "sleep-rs.kwo not in $PD/symbols: $(cat /tmp/perf-sleep.out)"
	kwo perf-map < /tmp/perf.txt > /tmp/perf.gone 2> /tmp/perf-map.err ||
		perf_fail "kwo perf-map (hot.kwo gone) failed: $(cat /tmp/perf-map.err)"
	cmp -s /tmp/perf.gone /tmp/perf.txt || perf_fail "kwo perf-map named samples of a closed instance"
	grep -q 'no address lies in kwo code' /tmp/perf-map.err ||
		perf_fail "kwo perf-map (hot.kwo gone) said: '$(cat /tmp/perf-map.err)'"
	# The copy saved while it lived names them as before.
	kwo perf-map --symbols /tmp/perf.syms < /tmp/perf.txt > /tmp/perf.saved 2> /tmp/perf-map.err ||
		perf_fail "kwo perf-map --symbols failed: $(cat /tmp/perf-map.err)"
	cmp -s /tmp/perf.saved /tmp/perf.named || perf_fail "kwo perf-map --symbols named the samples otherwise"
	perf_took unloaded

	# No instance at all: unchanged, with the other warning.
	kill -KILL $sleeper
	wait $sleeper
	perf_took killed
	kwo perf-map < /tmp/perf.txt > /tmp/perf.gone 2> /tmp/perf-map.err ||
		perf_fail "kwo perf-map (no instance) failed: $(cat /tmp/perf-map.err)"
	cmp -s /tmp/perf.gone /tmp/perf.txt || perf_fail "kwo perf-map (no instance) changed lines"
	grep -q 'no kwo symbols' /tmp/perf-map.err ||
		perf_fail "kwo perf-map (no instance) said: '$(cat /tmp/perf-map.err)'"
	perf_took done
	echo "KWO-PERF: a named sample: $(grep -m1 ' kwo:hot\.kwo:burn+' /tmp/perf.named | sed 's/^ *//')"
	echo "KWO-PERF: time:$perf_times"
fi
umount /sys/kernel/debug
true
