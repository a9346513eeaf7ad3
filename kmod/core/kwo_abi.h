/* SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0) */
/*
 * The contract between generated code and the runtime core: the vmctx
 * layout, host function ids and signatures, trap codes. docs/abi.md is the
 * prose specification; the compiler (compiler/src/abi.rs) mirrors every
 * number here and a test on each side checks them.
 */
#ifndef KWO_ABI_H
#define KWO_ABI_H

#include "kwo_types.h"

/*
 * Generated code receives a pointer to this as its first argument. Fields
 * are 8 bytes wide and never move; generated code reads them at the fixed
 * offsets below.
 */
struct kwo_vmctx {
	__u64 mem_base;		/*  0: address of linear memory 0 (valid if mem_size = 0) */
	__u64 mem_size;		/*  8: accessible bytes of memory 0 */
	__u64 stack_limit;	/* 16: lowest stack pointer a function body may run at */
	__u64 epoch_ptr;	/* 24: address of a __u64 tick counter (jiffies) */
	__u64 epoch_deadline;	/* 32: call KWO_HOST_YIELD once *epoch_ptr >= this */
	__s64 fuel;		/* 40: checkpoints left; runtime-only (deadline 0 counts each) */
	__u64 funcrefs;		/* 48: struct kwo_funcref[all wasm functions] */
	__u64 tables;		/* 56: struct kwo_vmtable[tables] */
	__u64 globals;		/* 64: __u64[globals], one slot per global */
	__u64 instance;		/* 72: the runtime's instance; opaque to generated code */
};

#define KWO_VMCTX_MEM_BASE		0
#define KWO_VMCTX_MEM_SIZE		8
#define KWO_VMCTX_STACK_LIMIT		16
#define KWO_VMCTX_EPOCH_PTR		24
#define KWO_VMCTX_EPOCH_DEADLINE	32
#define KWO_VMCTX_FUEL			40
#define KWO_VMCTX_FUNCREFS		48
#define KWO_VMCTX_TABLES		56
#define KWO_VMCTX_GLOBALS		64
#define KWO_VMCTX_INSTANCE		72
#define KWO_VMCTX_SIZE			80

/* A funcref value is a pointer to one of these (0 is ref.null func). */
struct kwo_funcref {
	__u64 code;		/* 0: entry address (callable with the wasm calling convention) */
	__u32 sig_id;		/* 8: kwo_type.sig_id of the function's type */
	__u32 reserved;		/* 12 */
};

#define KWO_FUNCREF_CODE	0
#define KWO_FUNCREF_SIG_ID	8
#define KWO_FUNCREF_SIZE	16

/*
 * A table: len elements of 8 bytes each: funcref pointers or externref
 * values (0 is null for both).
 */
struct kwo_vmtable {
	__u64 base;		/* 0 */
	__u64 len;		/* 8: current number of elements */
};

#define KWO_VMTABLE_BASE	0
#define KWO_VMTABLE_LEN		8
#define KWO_VMTABLE_SIZE	16

/*
 * Host functions, called by generated code through KWO_RELOC_* relocations.
 * Every one takes the vmctx first. Wasm i32 arguments are passed as 32-bit
 * integers, references as 64-bit. Functions marked "may trap" unwind to the
 * entry stub instead of returning; the trap site table has their return
 * addresses.
 */
#define KWO_HOST_TRAP		0	/* void (vmctx, u32 trap_code); never returns */
#define KWO_HOST_YIELD		1	/* void (vmctx); may trap (interrupted) */
#define KWO_HOST_MEMORY_GROW	2	/* u32 (vmctx, u32 delta_pages): old pages or -1 */
#define KWO_HOST_MEMORY_FILL	3	/* void (vmctx, u32 dst, u32 val, u32 len); may trap */
#define KWO_HOST_MEMORY_COPY	4	/* void (vmctx, u32 dst, u32 src, u32 len); may trap */
#define KWO_HOST_MEMORY_INIT	5	/* void (vmctx, u32 seg, u32 dst, u32 src, u32 len); may trap */
#define KWO_HOST_DATA_DROP	6	/* void (vmctx, u32 seg) */
#define KWO_HOST_TABLE_GROW	7	/* u32 (vmctx, u32 table, u64 init, u32 delta): old len or -1 */
#define KWO_HOST_TABLE_FILL	8	/* void (vmctx, u32 table, u32 dst, u64 val, u32 len); may trap */
#define KWO_HOST_TABLE_COPY	9	/* void (vmctx, u32 dst_tab, u32 src_tab, u32 dst, u32 src, u32 len); may trap */
#define KWO_HOST_TABLE_INIT	10	/* void (vmctx, u32 table, u32 seg, u32 dst, u32 src, u32 len); may trap */
#define KWO_HOST_ELEM_DROP	11	/* void (vmctx, u32 seg) */
#define KWO_HOST_SPECTEST_PRINT	12	/* void (vmctx, ...): no-op; spec-test policy only */
#define KWO_HOST_ENOSYS_STUB	13	/* u32 (vmctx, ...): 52 (ENOSYS); a missing WASI import */
#define KWO_HOST_BUILTIN_COUNT	14

/*
 * WASI (wasi_snapshot_preview1) functions: the wasm signature with the
 * vmctx prepended; i32 errno result. docs/policy.md lists them.
 */
#define KWO_HOST_WASI_BASE			32
#define KWO_HOST_WASI_ARGS_GET			32
#define KWO_HOST_WASI_ARGS_SIZES_GET		33
#define KWO_HOST_WASI_ENVIRON_GET		34
#define KWO_HOST_WASI_ENVIRON_SIZES_GET		35
#define KWO_HOST_WASI_CLOCK_RES_GET		36
#define KWO_HOST_WASI_CLOCK_TIME_GET		37
#define KWO_HOST_WASI_FD_CLOSE			38
#define KWO_HOST_WASI_FD_FDSTAT_GET		39
#define KWO_HOST_WASI_FD_PRESTAT_GET		40
#define KWO_HOST_WASI_FD_PRESTAT_DIR_NAME	41
#define KWO_HOST_WASI_FD_READ			42
#define KWO_HOST_WASI_FD_SEEK			43
#define KWO_HOST_WASI_FD_WRITE			44
#define KWO_HOST_WASI_PROC_EXIT			45	/* never returns */
#define KWO_HOST_WASI_RANDOM_GET		46
#define KWO_HOST_WASI_SCHED_YIELD		47
#define KWO_HOST_WASI_FD_RENUMBER		48
#define KWO_HOST_WASI_POLL_ONEOFF		49
#define KWO_HOST_WASI_FD_TELL			50
#define KWO_HOST_WASI_FD_FILESTAT_GET		51
#define KWO_HOST_WASI_FD_FDSTAT_SET_FLAGS	52
#define KWO_HOST_WASI_FD_SYNC			53
#define KWO_HOST_WASI_FD_DATASYNC		54
#define KWO_HOST_WASI_FD_READDIR		55
#define KWO_HOST_WASI_PATH_OPEN			56
#define KWO_HOST_WASI_PATH_FILESTAT_GET		57
#define KWO_HOST_WASI_PATH_CREATE_DIRECTORY	58
#define KWO_HOST_WASI_PATH_UNLINK_FILE		59
#define KWO_HOST_WASI_PATH_REMOVE_DIRECTORY	60
#define KWO_HOST_WASI_PATH_RENAME		61
#define KWO_HOST_WASI_END			62

/* Trap codes; the names are the spec testsuite's assert_trap messages. */
#define KWO_TRAP_NONE			0
#define KWO_TRAP_UNREACHABLE		1	/* "unreachable" */
#define KWO_TRAP_INT_DIV_BY_ZERO	2	/* "integer divide by zero" */
#define KWO_TRAP_INT_OVERFLOW		3	/* "integer overflow" */
#define KWO_TRAP_BAD_CONVERSION		4	/* "invalid conversion to integer" */
#define KWO_TRAP_MEMORY_OOB		5	/* "out of bounds memory access" */
#define KWO_TRAP_TABLE_OOB		6	/* "out of bounds table access" */
#define KWO_TRAP_UNDEFINED_ELEMENT	7	/* "undefined element" */
#define KWO_TRAP_UNINITIALIZED_ELEMENT	8	/* "uninitialized element" */
#define KWO_TRAP_SIGNATURE_MISMATCH	9	/* "indirect call type mismatch" */
#define KWO_TRAP_STACK_EXHAUSTED	10	/* "call stack exhausted" */
#define KWO_TRAP_INTERRUPTED		11	/* "interrupted": time budget or signal */
#define KWO_TRAP_FUEL_EXHAUSTED		12	/* "fuel exhausted" */
#define KWO_TRAP_EXIT			13	/* not a trap: proc_exit unwound the call */
#define KWO_TRAP_COUNT			14

/*
 * Array-call trampolines (one per exported function, and the start
 * function) have the native signature
 *	void tramp(struct kwo_vmctx *vmctx, __u64 *vals);
 * They read the arguments from vals[0..params), call the function, and
 * write the results to vals[0..results). i32/f32 occupy the low 32 bits of
 * a slot; references are 64-bit.
 */

#endif /* KWO_ABI_H */
