/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WASI poll_oneoff as kwo provides it (docs/abi.md, "Sleeping:
 * poll_oneoff"): clock subscriptions, relative and absolute, sleep about as
 * long as asked and report the clocks due; descriptor subscriptions and
 * unknown clocks are answered at once with an errno event; C usleep works.
 * Prints one line per check ("ok NAME" or what went wrong) and exits 1 if
 * any failed.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

static int failed;

static void check(int ok, const char *name)
{
	printf("%s %s\n", ok ? "ok" : "FAILED", name);
	failed |= !ok;
}

static __wasi_timestamp_t now(__wasi_clockid_t clock)
{
	__wasi_timestamp_t t;

	return __wasi_clock_time_get(clock, 1, &t) ? 0 : t;
}

static __wasi_subscription_t clock_sub(__wasi_userdata_t ud,
				       __wasi_clockid_t id,
				       __wasi_timestamp_t timeout,
				       __wasi_subclockflags_t flags)
{
	__wasi_subscription_t s;

	memset(&s, 0, sizeof(s));
	s.userdata = ud;
	s.u.tag = __WASI_EVENTTYPE_CLOCK;
	s.u.u.clock.id = id;
	s.u.u.clock.timeout = timeout;
	s.u.u.clock.flags = flags;
	return s;
}

#define MS 1000000ull

int main(void)
{
	__wasi_subscription_t subs[3];
	__wasi_event_t evs[3];
	__wasi_size_t n = 99;
	__wasi_timestamp_t t0, took;

	check(__wasi_poll_oneoff(subs, evs, 0, &n) == __WASI_ERRNO_INVAL,
	      "no subscriptions: EINVAL");
	check(__wasi_poll_oneoff((void *)0xfffffff0, evs, 1, &n) ==
	      __WASI_ERRNO_FAULT, "subscriptions outside memory: EFAULT");

	/* Two relative clocks: the earlier fires, after its time. */
	subs[0] = clock_sub(11, __WASI_CLOCKID_MONOTONIC, 10000 * MS, 0);
	subs[1] = clock_sub(22, __WASI_CLOCKID_MONOTONIC, 50 * MS, 0);
	t0 = now(__WASI_CLOCKID_MONOTONIC);
	check(__wasi_poll_oneoff(subs, evs, 2, &n) == 0 && n == 1 &&
	      evs[0].userdata == 22 && evs[0].error == 0 &&
	      evs[0].type == __WASI_EVENTTYPE_CLOCK, "earliest clock fires");
	took = now(__WASI_CLOCKID_MONOTONIC) - t0;
	check(took >= 50 * MS && took < 2000 * MS, "slept 50 ms");

	/* Absolute monotonic 30 ms ahead; absolute realtime in the past. */
	t0 = now(__WASI_CLOCKID_MONOTONIC);
	subs[0] = clock_sub(33, __WASI_CLOCKID_MONOTONIC, t0 + 30 * MS,
			    __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
	check(__wasi_poll_oneoff(subs, evs, 1, &n) == 0 && n == 1 &&
	      evs[0].userdata == 33 && evs[0].error == 0,
	      "absolute monotonic clock fires");
	took = now(__WASI_CLOCKID_MONOTONIC) - t0;
	check(took >= 30 * MS && took < 2000 * MS, "slept until it");
	subs[0] = clock_sub(44, __WASI_CLOCKID_REALTIME,
			    now(__WASI_CLOCKID_REALTIME) - 1000 * MS,
			    __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
	t0 = now(__WASI_CLOCKID_MONOTONIC);
	check(__wasi_poll_oneoff(subs, evs, 1, &n) == 0 && n == 1 &&
	      evs[0].userdata == 44 && evs[0].error == 0 &&
	      now(__WASI_CLOCKID_MONOTONIC) - t0 < 1000 * MS,
	      "past realtime fires at once");

	/* A descriptor subscription and an unknown clock: errno events, no sleep. */
	subs[0] = clock_sub(55, __WASI_CLOCKID_MONOTONIC, 10000 * MS, 0);
	memset(&subs[1], 0, sizeof(subs[1]));
	subs[1].userdata = 66;
	subs[1].u.tag = __WASI_EVENTTYPE_FD_READ;
	subs[1].u.u.fd_read.file_descriptor = 0;
	subs[2] = clock_sub(77, 7, 0, 0);
	t0 = now(__WASI_CLOCKID_MONOTONIC);
	check(__wasi_poll_oneoff(subs, evs, 3, &n) == 0 && n == 2 &&
	      evs[0].userdata == 66 && evs[0].error == __WASI_ERRNO_NOTSUP &&
	      evs[0].type == __WASI_EVENTTYPE_FD_READ &&
	      evs[1].userdata == 77 && evs[1].error == __WASI_ERRNO_INVAL &&
	      now(__WASI_CLOCKID_MONOTONIC) - t0 < 1000 * MS,
	      "fd subscription ENOTSUP, unknown clock EINVAL, no sleep");

	t0 = now(__WASI_CLOCKID_MONOTONIC);
	check(usleep(20000) == 0 &&
	      now(__WASI_CLOCKID_MONOTONIC) - t0 >= 20 * MS, "usleep 20 ms");
	return failed;
}
