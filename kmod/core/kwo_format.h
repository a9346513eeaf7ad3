/* SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0) */
/*
 * The .kwo object format: the on-disk layout shared by the compiler
 * (writer, Rust: format/), the kernel module and the userspace runtime
 * (reader, this C core). docs/kwo-format.md is the prose specification.
 *
 * Every integer is little-endian. Every offset is from the start of the
 * object. Readers access fields with explicit little-endian loads, never by
 * casting the object bytes, so these structs document the layout and fix
 * the sizes (checked by the tests on both sides); they are not overlaid on
 * untrusted memory.
 */
#ifndef KWO_FORMAT_H
#define KWO_FORMAT_H

#include "kwo_types.h"

#define KWO_MAGIC		0x004f574bu	/* "KWO\0" */
#define KWO_VERSION		1u
#define KWO_NONE		0xffffffffu	/* "no index / no offset" */

/* kwo_header.target */
#define KWO_TARGET_X86_64	1u
#define KWO_TARGET_AARCH64	2u

/* kwo_header.flags */
#define KWO_F_USES_FP		(1u << 0)	/* code touches FP/SIMD registers */
#define KWO_F_UNCHECKED		(1u << 1)	/* safety checks off (benchmarks); kernel refuses */
#define KWO_F_RESERVED_MEMORY	(1u << 2)	/* memory in a reservation; base never moves */
#define KWO_F_X86_BMI		(1u << 3)	/* x86_64 code uses BMI1, BMI2, LZCNT */
#define KWO_F_KNOWN	(KWO_F_USES_FP | KWO_F_UNCHECKED | KWO_F_RESERVED_MEMORY | KWO_F_X86_BMI)

struct kwo_header {			/* 64 bytes */
	__u32 magic;			/* KWO_MAGIC */
	__u32 version;			/* KWO_VERSION */
	__u32 header_len;		/* sizeof(struct kwo_header) */
	__u32 target;			/* KWO_TARGET_* */
	__u32 flags;			/* KWO_F_*; unknown bits rejected */
	__u32 checksum;			/* CRC-32 (IEEE) of the object, this field as 0 */
	__u64 object_len;		/* total length of the object in bytes */
	__u32 section_off;		/* offset of struct kwo_section[section_count] */
	__u32 section_count;
	__u32 max_frame;		/* largest native frame of any function, bytes */
	__u32 start_func;		/* wasm function index of the start function, or KWO_NONE */
	__u32 start_tramp;		/* CODE offset of the start function's trampoline, or KWO_NONE */
	__u32 stack_bound;		/* worst-case call stack, bytes; 0: recursive */
	__u32 reserved[2];		/* must be zero */
};

/* kwo_section.kind; each kind appears at most once, in any order */
#define KWO_SEC_CODE		1u	/* machine code; count = 0 */
#define KWO_SEC_BLOB		2u	/* bytes referenced by (off, len) pairs; count = 0 */
#define KWO_SEC_TYPES		3u	/* struct kwo_type[count] */
#define KWO_SEC_IMPORTS		4u	/* struct kwo_import[count] */
#define KWO_SEC_FUNCS		5u	/* struct kwo_func[count], defined functions */
#define KWO_SEC_TABLES		6u	/* struct kwo_table[count] */
#define KWO_SEC_MEMORY		7u	/* struct kwo_memory[count], count <= 1 */
#define KWO_SEC_GLOBALS		8u	/* struct kwo_global[count] */
#define KWO_SEC_EXPORTS		9u	/* struct kwo_export[count] */
#define KWO_SEC_DATA		10u	/* struct kwo_data[count] */
#define KWO_SEC_ELEMS		11u	/* struct kwo_elem[count] */
#define KWO_SEC_RELOCS		12u	/* struct kwo_reloc[count] */
#define KWO_SEC_TRAPS		13u	/* struct kwo_trap_site[count], sorted by code_off */
#define KWO_SEC_LINES		14u	/* source line table (debug data); count = 0 */
#define KWO_SEC_ADDRMAP		15u	/* struct kwo_addr_map[count], sorted by code_off */
#define KWO_SEC_MAX		15u

struct kwo_section {			/* 16 bytes */
	__u32 kind;			/* KWO_SEC_* */
	__u32 count;			/* number of entries (0 for byte sections) */
	__u32 offset;			/* 8-byte aligned */
	__u32 size;			/* bytes; count * entry size for tables */
};

/* Value types use the WebAssembly binary encoding. */
#define KWO_VAL_I32		0x7fu
#define KWO_VAL_I64		0x7eu
#define KWO_VAL_F32		0x7du
#define KWO_VAL_F64		0x7cu
#define KWO_VAL_FUNCREF		0x70u
#define KWO_VAL_EXTERNREF	0x6fu

struct kwo_type {			/* 16 bytes */
	__u32 param_count;
	__u32 result_count;
	__u32 valtypes;			/* BLOB offset of param_count + result_count KWO_VAL_* bytes */
	__u32 sig_id;			/* canonical signature id compared by call_indirect */
};

struct kwo_import {			/* 16 bytes; imported function i is wasm function i */
	__u32 host_id;			/* KWO_HOST_WASI_* */
	__u32 type;			/* index into TYPES */
	__u32 reserved[2];		/* must be zero */
};

struct kwo_func {			/* 32 bytes; defined function i is wasm function imports + i */
	__u32 type;			/* index into TYPES */
	__u32 code_off;			/* CODE offset of the entry (the ENDBR64/BTI landing pad) */
	__u32 code_len;
	__u32 name_off;			/* BLOB offset of the UTF-8 name (name section), */
	__u32 name_len;			/* name_len = 0: no name */
	__u32 wasm_off;			/* offset of the body in the .wasm, for diagnostics */
	__u32 reserved[2];		/* must be zero */
};

struct kwo_table {			/* 16 bytes */
	__u32 elem_type;		/* KWO_VAL_FUNCREF or KWO_VAL_EXTERNREF */
	__u32 min;			/* initial number of elements */
	__u32 max;			/* maximum, or KWO_NONE for none */
	__u32 reserved;			/* must be zero */
};

struct kwo_memory {			/* 16 bytes */
	__u32 min_pages;		/* 64 KiB pages */
	__u32 max_pages;		/* maximum, or KWO_NONE for none (runtime limit applies) */
	__u32 reserved[2];		/* must be zero */
};

/* kwo_global.init_kind */
#define KWO_INIT_VALUE		0u	/* value holds the bits (f32 in the low 32 bits) */
#define KWO_INIT_REF_FUNC	1u	/* value is a wasm function index */
#define KWO_INIT_REF_NULL	2u	/* value is 0 */

struct kwo_global {			/* 16 bytes; constant expressions are folded by the compiler */
	__u8 type;			/* KWO_VAL_* */
	__u8 mutable;			/* 0 or 1 */
	__u8 init_kind;			/* KWO_INIT_* */
	__u8 reserved[5];		/* must be zero */
	__u64 value;
};

/* kwo_export.kind */
#define KWO_EXPORT_FUNC		0u
#define KWO_EXPORT_TABLE	1u
#define KWO_EXPORT_MEMORY	2u
#define KWO_EXPORT_GLOBAL	3u

struct kwo_export {			/* 24 bytes */
	__u32 kind;			/* KWO_EXPORT_* */
	__u32 index;			/* index in the wasm index space of that kind */
	__u32 name_off;			/* BLOB offset of the UTF-8 name */
	__u32 name_len;
	__u32 tramp;			/* functions: CODE offset of the array-call trampoline */
	__u32 reserved;			/* must be zero */
};

/* kwo_data.flags and kwo_elem.flags */
#define KWO_SEG_PASSIVE		0u
#define KWO_SEG_ACTIVE		1u
#define KWO_SEG_DECLARATIVE	2u	/* elements only */

struct kwo_data {			/* 16 bytes */
	__u32 flags;			/* KWO_SEG_ACTIVE or KWO_SEG_PASSIVE */
	__u32 offset;			/* active: destination offset in memory 0 */
	__u32 data_off;			/* BLOB offset of the bytes */
	__u32 data_len;
};

struct kwo_elem {			/* 24 bytes */
	__u32 flags;			/* KWO_SEG_* */
	__u32 elem_type;		/* KWO_VAL_FUNCREF or KWO_VAL_EXTERNREF */
	__u32 table;			/* active: table index */
	__u32 offset;			/* active: destination element index */
	__u32 count;
	__u32 items;			/* BLOB offset of count __u32 wasm function indices (KWO_NONE = null) */
};

/* kwo_reloc.kind */
#define KWO_RELOC_X86_CALL32	1u	/* rel32 of a call: *(s32 *)P = S + addend - P */
#define KWO_RELOC_ARM64_CALL26	2u	/* imm26 of BL: (S + addend - P) >> 2 */

struct kwo_reloc {			/* 16 bytes */
	__u32 offset;			/* CODE offset P of the patched field */
	__u32 kind;			/* KWO_RELOC_* */
	__u32 host_id;			/* target S: KWO_HOST_* (see kwo_abi.h) */
	__s32 addend;
};

struct kwo_trap_site {			/* 16 bytes */
	__u32 code_off;			/* CODE offset of the return address of the host call */
	__u32 trap_code;		/* KWO_TRAP_* raised there (0: decided by the host function) */
	__u32 func;			/* wasm function index */
	__u32 wasm_off;			/* byte offset of the instruction in the .wasm */
};

/*
 * From code_off up to the next entry's code_off, the code implements the
 * instruction at wasm_off (KWO_NONE: none, e.g. a prologue or trampoline).
 */
struct kwo_addr_map {			/* 8 bytes */
	__u32 code_off;			/* CODE offset, strictly increasing */
	__u32 wasm_off;			/* byte offset of the instruction in the .wasm, or KWO_NONE */
};

#endif /* KWO_FORMAT_H */
