# Signed objects (docs/security.md, "Signed objects"). Sourced by suite.sh
# (step and fail come from /init). tests/vm/run.sh made, with keys it
# generated for this run: nop-k1.kwo (kwo compile --sign, key 1),
# nop-k2.kwo (kwo sign, key 2), nop-k3.kwo (key 3, whose certificate no
# keyring holds) and k1.der, k2.der (the certificates). nop.kwo is unsigned.
# Ends with require_signature on, which only reloading kwo.ko undoes.
s=/objects/sign

# Off (the default): every object loads; a signature a keyring vouches for
# shows in KWO_IOC_INFO, any other loads as unsigned.
k1=$(ktest keyadd $s/k1.der) || { echo "KWO-STEP-FAILED: keyadd k1"; fail=1; }
step ktest sig $s/nop-k1.kwo "signed:kwo test key 1"
step ktest sig $s/nop-k1.kwo unsigned tamper
step ktest sig $s/nop-k2.kwo unsigned
step ktest sig $s/nop-k3.kwo unsigned
step ktest sig /objects/nop.kwo unsigned
step ktest sigfuzz $s/nop-k1.kwo 100
cli_expect 0 "" "" kwo invoke $s/nop-k1.kwo nop
cli_expect 0 "" "" kwo run --invoke nop $s/nop-k1.kwo

# On: unsigned, tampered and unknown-key objects are refused, with a
# message; it cannot be turned off again.
step sh -c 'echo 1 > /sys/module/kwo/parameters/require_signature'
if echo 0 2>/dev/null > /sys/module/kwo/parameters/require_signature ||
   [ "$(cat /sys/module/kwo/parameters/require_signature)" != Y ]; then
	echo "KWO-STEP-FAILED: require_signature could be turned off"
	fail=1
fi
step ktest sig $s/nop-k1.kwo "signed:kwo test key 1"
step ktest sig $s/nop-k1.kwo EKEYREJECTED tamper
step ktest sig /objects/nop.kwo EKEYREJECTED
step ktest sig $s/nop-k3.kwo ENOKEY
step ktest sigfuzz $s/nop-k1.kwo 100 required

# Key rotation: key 2 added, its objects load; key 1 removed, its refused.
step ktest sig $s/nop-k2.kwo ENOKEY
k2=$(ktest keyadd $s/k2.der) || { echo "KWO-STEP-FAILED: keyadd k2"; fail=1; }
step ktest sig $s/nop-k2.kwo "signed:kwo test key 2"
step ktest sig $s/nop-k1.kwo "signed:kwo test key 1"
step ktest keyunlink "$k1"
step ktest sig $s/nop-k1.kwo ENOKEY
step ktest sig $s/nop-k2.kwo "signed:kwo test key 2"
step ktest keyunlink "$k2"

# The rest of the suite loads unsigned objects: a fresh kwo.ko.
step rmmod kwo
step insmod /kwo.ko
