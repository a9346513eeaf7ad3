/* SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0) */
/*
 * The portable core's API: validate a .kwo object, instantiate it, invoke
 * its exports, read back results and traps. WASI descriptors are host files
 * (kwo_platform.h) given in the config. The Linux glue
 * (kmod/linux/) and the userspace runtime (loader/) are its only callers.
 *
 * Concurrency: objects are immutable after kwo_object_load() and may be
 * shared. An instance is single-threaded: kwo_invoke() returns -EBUSY if a
 * call on the same instance is already running (the kernel glue also holds
 * a mutex); nothing else on an instance may run during a call.
 *
 * Error convention: negative errno values; functions taking (log, log_len)
 * also write a one-line human message there (always NUL-terminated when
 * log_len > 0).
 */
#ifndef KWO_CORE_H
#define KWO_CORE_H

#include "kwo_types.h"
#include "kwo_format.h"
#include "kwo_abi.h"
#include "kwo_platform.h"

/* Hard limits enforced by the object validator. */
#define KWO_MAX_OBJECT_LEN	(256u << 20)	/* 256 MiB */
#define KWO_MAX_FUNCS		1000000u
#define KWO_MAX_TABLE_ELEMS	10000000u	/* per table, also for growth */
#define KWO_MAX_PAGES		65536u		/* 4 GiB: the wasm32 maximum */

struct kwo_object;	/* a validated object; immutable */
struct kwo_instance;	/* an instantiated object */

/*
 * Validate len bytes of an untrusted object and return a private parsed
 * copy in *out (the caller's buffer can be freed afterwards). Checks the
 * layout, every offset, count and index, the checksum, the target
 * architecture and the CPU baseline. Returns 0, -ENOMEM, -EINVAL
 * (malformed), -ENOEXEC (wrong architecture / unsupported CPU / version).
 */
int kwo_object_load(const void *bytes, size_t len, struct kwo_object **out,
		    char *log, size_t log_len);
void kwo_object_free(struct kwo_object *obj);

/* Per-instance configuration; kwo_config_init() sets the defaults. */
struct kwo_config {
	__u32 max_memory_pages;	/* runtime cap on memory 0 (default 16384 = 1 GiB) */
	__u32 max_table_elems;	/* cap per table and on all tables' initial sizes */
	__u64 stack_budget;	/* bytes of native stack per call (default 512 KiB) */
	__u64 host_reserve;	/* stack kept for host functions (default 8 KiB) */
	/* WASI: argv and environ ("K=V") strings, each NUL-terminated. */
	const char *const *argv;
	__u32 argc;
	__u32 envc;
	const char *const *envp;
	/*
	 * WASI descriptors: files[i] (a kwo_plat_file_* handle, or NULL for
	 * none) becomes fd i. The instance owns the handles from
	 * kwo_instance_new() on, whatever it returns. More than KWO_FD_LIMIT
	 * is -EMFILE.
	 */
	void *const *files;
	__u32 nfiles;
	__u32 pad;
	/*
	 * preopens[i] non-NULL: files[i] is a directory preopened for the
	 * program under that guest path (fd_prestat_get). NULL: none.
	 */
	const char *const *preopens;
};

/* Open WASI descriptors per instance, stdio included (EMFILE beyond). */
#define KWO_FD_LIMIT		64

void kwo_config_init(struct kwo_config *cfg);

/* kwo_call.status */
#define KWO_STATUS_OK		0
#define KWO_STATUS_TRAP		1
#define KWO_STATUS_EXIT		2	/* proc_exit(exit_code) */

#define KWO_FUEL_UNLIMITED	(~(__u64)0)

/* Most frames a trap's backtrace reports; deeper ones are cut. */
#define KWO_BACKTRACE_MAX	32u

/* One frame of a trap's backtrace. */
struct kwo_bt_frame {
	__u32 func;		/* wasm function index */
	__u32 wasm_off;		/* .wasm offset of the trap or call, or KWO_NONE */
};

/* Budgets for one call (in) and how it ended (out). */
struct kwo_call {
	/* in */
	__u64 fuel;		/* checkpoints allowed, or KWO_FUEL_UNLIMITED */
	__u64 timeout_ns;	/* wall-clock budget, 0 for none */
	/*
	 * Room for a trap's backtrace (NULL / 0: none wanted), at most
	 * KWO_BACKTRACE_MAX frames used. Out: frames[0 .. nframes), innermost
	 * first (frames[0] is the trap itself: func, wasm_off); truncated is 1
	 * when the stack held more wasm frames than were reported.
	 */
	struct kwo_bt_frame *frames;
	__u32 frames_cap;
	__u32 nframes;		/* out */
	__u32 truncated;	/* out */
	__u32 pad;
	/* out */
	__u32 status;		/* KWO_STATUS_* */
	__u32 trap_code;	/* KWO_TRAP_* when status is TRAP */
	__u32 func;		/* wasm function index of the trap, or KWO_NONE */
	__u32 wasm_off;		/* .wasm offset of the trap, or KWO_NONE */
	__s32 exit_code;	/* when status is EXIT */
	__u32 write_errno;	/* first errno of a failed fd_write in the call, or 0 */
	__u64 fuel_left;	/* after the call, if fuel was limited */
};

/* Budget defaults for kwo_call: unlimited fuel, no timeout. */
void kwo_call_init(struct kwo_call *call);

/*
 * Instantiate obj (which must outlive the instance): allocate memory,
 * tables, globals and code, apply relocations, seal the code, copy the
 * active data and element segments and run the start function with the
 * budgets in *call. Returns 0 with *out set; a negative errno with a
 * message in log (-ENOMEM; -E2BIG: memory or a table exceeds the config's
 * caps; -ERANGE: a relocation cannot reach its veneer; the platform's
 * error from sealing the code); or 1 (KWO_TRAPPED) when a segment or the
 * start function trapped or exited: *out is then NULL and *call says why.
 */
#define KWO_TRAPPED	1
int kwo_instance_new(const struct kwo_object *obj,
		     const struct kwo_config *cfg, struct kwo_call *call,
		     struct kwo_instance **out, char *log, size_t log_len);
void kwo_instance_free(struct kwo_instance *inst);
const struct kwo_object *kwo_instance_object(const struct kwo_instance *inst);

/* An export, as found by kwo_export_find() / kwo_export_get(). */
struct kwo_export_info {
	__u32 kind;		/* KWO_EXPORT_* */
	__u32 index;		/* index in that kind's index space */
	const char *name;	/* not NUL-terminated */
	__u32 name_len;
	/* functions only: the signature (KWO_VAL_* bytes) */
	__u32 param_count;
	__u32 result_count;
	const __u8 *params;
	const __u8 *results;
};

__u32 kwo_export_count(const struct kwo_object *obj);
/* Returns 0 or -ENOENT. */
int kwo_export_get(const struct kwo_object *obj, __u32 i,
		   struct kwo_export_info *info);
/* Returns the export's position (>= 0) or -ENOENT. */
int kwo_export_find(const struct kwo_object *obj, const char *name,
		    size_t name_len, struct kwo_export_info *info);

/* The function's name from the name section, or NULL (len 0). */
const char *kwo_func_name(const struct kwo_object *obj, __u32 func,
			  __u32 *len);

/*
 * The code map, for profilers (symbols.c): kwo_symbol_count() pieces of
 * code, each a defined function (in FUNCS order), then each distinct
 * array-call trampoline (by address; a trampoline's length runs to the next
 * piece of code), then the veneers the loader appends. Offsets are from
 * the start of an instance's code, kwo_instance_code(), whose size covers
 * them all.
 */
#define KWO_SYM_FUNC		0	/* the body of wasm function func */
#define KWO_SYM_TRAMP		1	/* the trampoline that calls func */
#define KWO_SYM_VENEERS		2	/* jumps to host functions; func KWO_NONE */

struct kwo_symbol {
	__u32 kind;		/* KWO_SYM_* */
	__u32 func;		/* wasm function index, or KWO_NONE */
	__u32 code_off;
	__u32 code_len;		/* never 0 */
};

__u32 kwo_symbol_count(const struct kwo_object *obj);
/* Returns 0, or -ENOENT for i >= kwo_symbol_count(obj). */
int kwo_symbol_get(const struct kwo_object *obj, __u32 i,
		   struct kwo_symbol *sym);
/* The instance's sealed code: its address, and its size in *size. */
const void *kwo_instance_code(const struct kwo_instance *inst, size_t *size);

/*
 * Call exported function number export_pos (from kwo_export_find). vals
 * holds max(params, results) slots: the arguments on entry (i32/f32 in the
 * low 32 bits), the results on return. The caller has checked the types
 * against kwo_export_info. Returns 0 when the call ran (ok, trap or exit:
 * see call->status), -ENOENT (not a function export), -EINVAL (nvals too
 * small), -EBUSY (a call is running on this instance).
 */
int kwo_invoke(struct kwo_instance *inst, __u32 export_pos, __u64 *vals,
	       __u32 nvals, struct kwo_call *call);

/*
 * Change the native stack budget for later calls (e.g. clamped to what the
 * calling thread really has left, which only the caller can know).
 */
void kwo_set_stack_budget(struct kwo_instance *inst, __u64 bytes);

/* Read an exported or internal global: 0, or -ENOENT. */
int kwo_global_get(const struct kwo_instance *inst, __u32 global,
		   __u64 *value, __u8 *type);

/* Current linear memory 0 (base may be NULL with size 0). */
void kwo_memory_get(const struct kwo_instance *inst, __u8 **base,
		    __u64 *size);

/* Human wording of a trap code (the spec testsuite's assert_trap text). */
const char *kwo_trap_message(__u32 code);

#endif /* KWO_CORE_H */
