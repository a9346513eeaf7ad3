/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces between the files of the Linux glue. The glue is
 * thin: the portable core (../core) validates objects and runs instances;
 * these files give it kernel memory, time and scheduling, and expose it
 * through /dev/kwo.
 */
#ifndef KWO_LINUX_H
#define KWO_LINUX_H

#include <linux/types.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/sched.h>
#include <linux/kwo.h>

/*
 * execmem.c: executable memory for generated code (kwo_plat_code_* of
 * kwo_platform.h), through unexported kernel functions found by kallsyms.
 */
int kwo_execmem_init(void);

/*
 * execmem.c, once kwo_execmem_init() succeeded: the address of a kernel
 * symbol (0 if absent), and a call of such a function with up to six
 * word-sized arguments (IBT-safe).
 */
unsigned long kwo_lookup(const char *name);
unsigned long kwo_kcall6(unsigned long fn, unsigned long a0, unsigned long a1,
			 unsigned long a2, unsigned long a3, unsigned long a4,
			 unsigned long a5);

/*
 * memory.c: linear memories in reserved vmalloc space (kwo_plat_mem_* of
 * kwo_platform.h); resolves its kernel functions and sets the default of
 * max_memories.
 */
int kwo_memory_init(void);

/* selftest.c: exercise executable memory once at load (selftest=1). */
int kwo_selftest(void);

/* dev.c: /dev/kwo. */
int kwo_dev_init(void);
void kwo_dev_exit(void);

/*
 * sign.c: the .kwo keyring and the signature check of KWO_IOC_LOAD. A
 * kwo_sig is what KWO_IOC_INFO reports about the object's signature.
 */
struct kwo_sig {
	bool verified;			/* a trusted key's signature checked */
	u32 kwo_version;		/* of the signing kwo */
	char signer[24];		/* KWO_SIGNER_LEN, NUL-terminated */
};

int kwo_sign_init(void);
void kwo_sign_exit(void);
int kwo_sig_check(const u8 *bytes, u32 len, u32 *object_len,
		  struct kwo_sig *sig, char *log, size_t log_size);

/* instance.c: instance file descriptors. */
struct kwo_object;
struct kwo_kinst;
struct kwo_load;
struct kwo_bt_frame;
void kwo_kinst_set_sig(struct kwo_kinst *k, const struct kwo_sig *sig);
int kwo_kinst_create(struct kwo_object *obj, struct kwo_load *req,
		     const u8 *header, char *log, size_t log_len,
		     struct kwo_bt_frame *frames, struct kwo_kinst **out);
int kwo_kinst_install(struct kwo_kinst *k);
void *kwo_copy_from_user(u64 uptr, size_t len);
void kwo_kinst_destroy(struct kwo_kinst *k);
bool kwo_stdio_valid(const __s32 *stdio, bool flagged);

/*
 * stdio.c: WASI fds 0-2 of an instance, the kwo_plat_file_* handles the
 * core gets. data/len/pos: fd 0's block (buffered mode); data/len/cap and
 * truncated: fd 1 or 2's output since the last invoke.
 */
#define KWO_STDIO_SLOTS	3
struct kwo_stdio {
	int fd;				/* 0, 1 or 2 */
	bool printk;			/* mirror written bytes to the log */
	bool truncated;
	struct file *file;		/* streamed: the caller's, during a call */
	u8 *data;
	size_t len, cap, pos;
};

int kwo_stdio_attach(struct kwo_stdio *slots, const __s32 *stdio);
void kwo_stdio_detach(struct kwo_stdio *slots);
void kwo_stdio_free(struct kwo_stdio *slots);
void kwo_stdio_printk(const struct kwo_stdio *s, const u8 *data, size_t len);

/*
 * debugfs.c: the counters and the root-only files of /sys/kernel/debug/kwo/
 * (stats, instances, symbols). Each instance embeds a kwo_obs, on the
 * registry from kwo_obs_add() until kwo_obs_del(); the registry's lock
 * keeps it, and the instance it describes, alive while a file shows it.
 * The counters are written under the instance's lock after each call and
 * read without it.
 */
struct kwo_object;
struct kwo_instance;
struct kwo_call;

struct kwo_obs {
	struct list_head node;
	u64 id;				/* in load order, from 1 */
	pid_t pid;			/* tgid of the loader */
	char comm[TASK_COMM_LEN];	/* of the loader */
	char name[KWO_NAME_LEN];	/* KWO_IOC_SET_NAME, or "" */
	u32 checksum;			/* the object's, naming the unnamed */
	u64 object_len;
	const struct kwo_object *obj;
	const struct kwo_instance *inst;
	u64 mem_size;			/* after the last call */
	u64 invokes;			/* KWO_IOC_INVOKE calls that ran */
	u64 traps;			/* of which trapped */
	u64 wasm_ns;			/* time inside those calls */
};

void kwo_debugfs_init(void);
void kwo_debugfs_exit(void);
void kwo_obs_add(struct kwo_obs *o, const struct kwo_object *obj,
		 const struct kwo_instance *inst, u32 checksum, u64 object_len);
void kwo_obs_del(struct kwo_obs *o);
int kwo_obs_set_name(struct kwo_obs *o, const struct kwo_name *req);
/* A KWO_IOC_LOAD that made an instance (ok) or not. */
void kwo_stat_load(bool ok);
/* How a call into generated code ended (start function or invoke). */
void kwo_stat_ended(const struct kwo_call *call);
/* An invoke that ran on o, for ns; updates o's counters too. */
void kwo_stat_invoke(struct kwo_obs *o, const struct kwo_call *call, u64 ns,
		     u64 mem_size);
/* A preemption point that gave up the CPU. */
void kwo_stat_yield(void);

/* main.c: module parameters. */
extern unsigned int kwo_param_max_object;	/* bytes */
extern unsigned int kwo_param_timeout_ms;	/* default call budget */
extern unsigned int kwo_param_max_timeout_ms;	/* cap on any call budget */
extern unsigned int kwo_param_max_pages;	/* default linear memory cap */
extern unsigned int kwo_param_stack_budget;	/* bytes of task stack per call */
extern unsigned int kwo_param_host_reserve;	/* of which for host functions */
extern unsigned int kwo_param_output_limit;	/* bytes per stdout/stderr */
extern unsigned int kwo_param_max_memories;	/* reservations, module-wide */

#endif /* KWO_LINUX_H */
