# The kernel test suite, sourced by /init (which defines step and fail).
# Objects and their expected results come from the host (tests/vm/run.sh
# compiles tests/vm/objects/*.wat); calls.txt has one call per line:
#   OBJECT EXPORT [T:V ...] = T:V ... | trap:CODE | exit:N

vmalloc_used() {
	while read -r k v u; do [ "$k" = VmallocUsed: ] && echo "$v"; done < /proc/meminfo
}

# VmallocUsed settles slowly after boot (RCU-freed stacks, workqueues):
# wait until it has not changed for a few reads.
vmalloc_settled() {
	i=0 same=0 prev=$(vmalloc_used)
	while [ $i -lt 30 ] && [ $same -lt 4 ]; do
		usleep 300000
		cur=$(vmalloc_used)
		[ "$cur" = "$prev" ] && same=$((same + 1)) || same=0
		prev=$cur i=$((i + 1))
	done
	echo "$prev"
}

step ktest basic
[ -s /objects/calls.txt ] || { echo "KWO-STEP-FAILED: no test objects"; fail=1; }
while read -r obj export rest; do
	case "$obj" in ''|'#'*) continue ;; esac
	step ktest call "/objects/$obj" "$export" $rest
done < /objects/calls.txt

step ktest fuzz /objects/add.kwo 200
step ktest concurrent /objects/nop.kwo nop 4 200
ktest cycle /objects/nop.kwo nop 20 >/dev/null	# warm-up
before=$(vmalloc_settled)
step ktest cycle /objects/nop.kwo nop 300
after=$(vmalloc_settled)
echo "KWO-VMALLOC: ${before} kB before 300 cycles, ${after} kB after"
# Task stacks of exited processes may stay cached; allow a few.
[ $((after - before)) -le 64 ] || { echo "KWO-STEP-FAILED: vmalloc grew"; fail=1; }
step ktest kill /objects/spin.kwo spin
step ktest kill /objects/fpspin.kwo fpspin
step ktest handoff /objects/nop.kwo nop
step ktest unchecked /objects/add.kwo
step ktest bench /objects/nop.kwo nop 2000
. /cli.sh
