// SPDX-License-Identifier: GPL-2.0
/*
 * Instance file descriptors: KWO_IOC_LOAD (dev.c) creates one per loaded
 * object; KWO_IOC_INVOKE and KWO_IOC_INFO work on it; closing it frees
 * everything. A mutex serializes calls on one instance; separate instances
 * share nothing and run concurrently. Traps come back as a report in the
 * ioctl's result, never as a kernel error. Files passed at load
 * (KWO_LOAD_FILES) stay referenced until the instance is freed. Each
 * instance is on debugfs.c's registry from its creation to its end, and
 * KWO_IOC_SET_NAME names it there.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/kwo.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kwo_linux.h"
#include "../core/kwo_core.h"

/* The WASI world of an instance: argv and environ it was given. */
struct kwo_world {
	char *args, *env;
	const char **argv, **envp;
};

struct kwo_kinst {
	struct mutex lock;		/* held for every call and read */
	struct kwo_object *obj;
	struct kwo_instance *inst;
	u32 load_flags;			/* KWO_LOAD_* */
	u32 target;			/* from the object header */
	u32 obj_flags;
	u64 object_len;
	u64 mem_max;			/* bytes */
	struct kwo_obs obs;		/* debugfs, invoke and trap counts */
	struct kwo_sig sig;		/* of the object, checked at load */
	struct kwo_world world;		/* kept as long as the instance */
	struct kwo_stdio stdio[KWO_STDIO_SLOTS];	/* WASI fds 0-2 */
	struct kwo_stdio *passed;	/* WASI fds 3.., KWO_LOAD_FILES */
	u32 npassed;
	struct kwo_bt_frame frames[KWO_MAX_FRAMES];	/* the last trap's */
};

/*
 * A call's wall-clock budget: the caller's, or the default, never above
 * the administrator's cap (max_timeout_ms; 0 counts as 1 ms, since a
 * budget of 0 would mean none at all).
 */
static u64 kwo_timeout_ns(u64 requested)
{
	u64 cap = (u64)max(READ_ONCE(kwo_param_max_timeout_ms), 1u) * NSEC_PER_MSEC;
	u64 ns = requested ? requested :
		 (u64)READ_ONCE(kwo_param_timeout_ms) * NSEC_PER_MSEC;

	return min(ns ? ns : cap, cap);
}

static u64 kwo_fuel(u64 requested)
{
	return requested ? requested : KWO_FUEL_UNLIMITED;
}

static void kwo_report_trap(const struct kwo_call *call,
			    struct kwo_trap_report *trap)
{
	trap->code = call->status == KWO_STATUS_TRAP ? call->trap_code : 0;
	trap->func = call->func;
	trap->wasm_off = call->wasm_off;
	trap->reserved = 0;
}

/*
 * Hand a buffered output slot's bytes to the caller's buffer and clear it.
 * Returns 0 or -EFAULT; *len_out is what was copied.
 */
static int kwo_take_output(struct kwo_kinst *k, struct kwo_stdio *s, u64 ubuf,
			   u32 size, u32 *len_out, u32 *flags, u32 trunc_flag)
{
	size_t n = ubuf ? min_t(size_t, s->len, size) : 0;
	int ret = 0;

	if (k->load_flags & KWO_LOAD_PRINTK)
		kwo_stdio_printk(s, s->data, s->len);
	if (n && copy_to_user(u64_to_user_ptr(ubuf), s->data, n))
		ret = -EFAULT;
	*len_out = n;
	if (s->truncated || n < s->len)
		*flags |= trunc_flag;
	s->len = 0;
	s->truncated = false;
	return ret;
}

/*
 * Find the export and check the caller's arguments against it. A funcref
 * is a kernel address: userspace may only pass null.
 */
static int kwo_check_call(struct kwo_kinst *k, const char *name,
			  const struct kwo_invoke *req,
			  struct kwo_export_info *info)
{
	int pos = kwo_export_find(k->obj, name, req->name_len, info);
	u32 i;

	if (pos < 0 || info->kind != KWO_EXPORT_FUNC)
		return -ENOENT;
	if (info->param_count != req->nvals ||
	    info->result_count > KWO_MAX_VALS ||
	    memcmp(info->params, req->types, req->nvals))
		return -EINVAL;
	for (i = 0; i < req->nvals; i++)
		if (req->types[i] == KWO_VAL_FUNCREF && req->vals[i])
			return -EINVAL;
	return pos;
}

/*
 * Result types and values as userspace may see them: 32-bit results
 * zero-extended (no stale upper bits), a non-null funcref as 1 (never a
 * kernel address).
 */
static void kwo_set_results(struct kwo_invoke *req, const u8 *types)
{
	u32 i;

	memset(req->types, 0, sizeof(req->types));
	memcpy(req->types, types, req->nvals);
	for (i = 0; i < req->nvals; i++) {
		if (types[i] == KWO_VAL_I32 || types[i] == KWO_VAL_F32)
			req->vals[i] = (u32)req->vals[i];
		else if (types[i] == KWO_VAL_FUNCREF)
			req->vals[i] = !!req->vals[i];
	}
	for (; i < KWO_MAX_VALS; i++)
		req->vals[i] = 0;
}

/* A trap's backtrace to the caller's frames array: 0 or -EFAULT. */
static int kwo_report_frames(struct kwo_kinst *k, const struct kwo_call *call,
			     struct kwo_invoke *req)
{
	BUILD_BUG_ON(sizeof(struct kwo_frame) != sizeof(struct kwo_bt_frame));
	BUILD_BUG_ON(KWO_MAX_FRAMES != KWO_BACKTRACE_MAX);
	req->nframes = call->status == KWO_STATUS_TRAP ? call->nframes : 0;
	if (req->nframes && call->truncated)
		req->out_flags |= KWO_OUT_FRAMES_TRUNC;
	if (req->nframes &&
	    copy_to_user(u64_to_user_ptr(req->frames), k->frames,
			 req->nframes * sizeof(struct kwo_frame)))
		return -EFAULT;
	return 0;
}

static int kwo_do_invoke(struct kwo_kinst *k, struct kwo_invoke *req,
			 const char *name)
{
	struct kwo_export_info info;
	struct kwo_call call;
	u64 start, mem_size;
	u8 *base;
	int pos, ret;

	pos = kwo_check_call(k, name, req, &info);
	if (pos < 0)
		return pos;
	if (req->flags & KWO_INVOKE_STDIO) {
		ret = kwo_stdio_attach(k->stdio, req->stdio);
		if (ret)
			return ret;
	}
	kwo_call_init(&call);
	call.timeout_ns = kwo_timeout_ns(req->timeout_ns);
	call.fuel = kwo_fuel(req->fuel);
	if (req->frames) {
		call.frames = k->frames;
		call.frames_cap = min_t(u32, req->frames_cap, KWO_MAX_FRAMES);
	}
	start = ktime_get_ns();
	ret = kwo_invoke(k->inst, pos, req->vals,
			 max(info.param_count, info.result_count), &call);
	req->duration_ns = ktime_get_ns() - start;
	kwo_stdio_detach(k->stdio);
	if (ret)
		return ret;
	req->write_errno = call.write_errno;
	kwo_memory_get(k->inst, &base, &mem_size);
	kwo_stat_invoke(&k->obs, &call, req->duration_ns, mem_size);
	req->status = call.status;
	req->exit_code = call.exit_code;
	kwo_report_trap(&call, &req->trap);
	req->nvals = call.status == KWO_STATUS_OK ? info.result_count : 0;
	kwo_set_results(req, info.results);
	req->out_flags = 0;
	ret = kwo_report_frames(k, &call, req);
	if (ret)
		return ret;
	ret = kwo_take_output(k, &k->stdio[1], req->stdout_buf,
			      req->stdout_size, &req->stdout_len,
			      &req->out_flags, KWO_OUT_STDOUT_TRUNC);
	return ret ? ret : kwo_take_output(k, &k->stdio[2], req->stderr_buf,
					   req->stderr_size, &req->stderr_len,
					   &req->out_flags, KWO_OUT_STDERR_TRUNC);
}

/* stdio[] is meaningful with the flag, reserved (zero) without. */
bool kwo_stdio_valid(const __s32 *stdio, bool flagged)
{
	int i;

	for (i = 0; i < KWO_STDIO_SLOTS; i++)
		if (flagged ? stdio[i] < -1 : stdio[i])
			return false;
	return true;
}

static long kwo_ioctl_invoke(struct kwo_kinst *k, void __user *uarg)
{
	struct kwo_invoke *req;
	char *name = NULL;
	long ret;

	req = kmalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	ret = -EFAULT;
	if (copy_from_user(req, uarg, sizeof(*req)))
		goto out;
	ret = -EINVAL;
	if ((req->flags & ~KWO_INVOKE_KNOWN) || req->nvals > KWO_MAX_VALS ||
	    !req->name_len || req->name_len > KWO_MAX_NAME ||
	    !kwo_stdio_valid(req->stdio, req->flags & KWO_INVOKE_STDIO) ||
	    (!req->frames && req->frames_cap) || req->nframes)
		goto out;
	name = memdup_user(u64_to_user_ptr(req->name), req->name_len);
	if (IS_ERR(name)) {
		ret = PTR_ERR(name);
		name = NULL;
		goto out;
	}
	/*
	 * Interruptible, and restarted: a caller waiting here for another
	 * call to end leaves for a signal or the freezer (which may be
	 * freezing that other call, see kwo_plat_resched) and comes back.
	 */
	ret = -ERESTARTSYS;
	if (mutex_lock_interruptible(&k->lock))
		goto out;
	ret = kwo_do_invoke(k, req, name);
	mutex_unlock(&k->lock);
	if (!ret && copy_to_user(uarg, req, sizeof(*req)))
		ret = -EFAULT;
out:
	kfree(name);
	kfree(req);
	return ret;
}

static long kwo_ioctl_info(struct kwo_kinst *k, void __user *uarg)
{
	struct kwo_info info = {
		.target = k->target,
		.obj_flags = k->obj_flags,
		.exports = kwo_export_count(k->obj),
		.load_flags = k->load_flags,
		.object_len = k->object_len,
		.mem_max = k->mem_max,
		.sig_flags = k->sig.verified ? KWO_INFO_SIGNED : 0,
		.sig_kwo_version = k->sig.kwo_version,
	};
	u8 *base;

	if (mutex_lock_interruptible(&k->lock))
		return -ERESTARTSYS;
	kwo_memory_get(k->inst, &base, &info.mem_size);
	info.invocations = k->obs.invokes;
	info.traps = k->obs.traps;
	mutex_unlock(&k->lock);
	BUILD_BUG_ON(sizeof(info.signer) != sizeof(k->sig.signer));
	memcpy(info.signer, k->sig.signer, sizeof(info.signer));
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long kwo_ioctl_set_name(struct kwo_kinst *k, void __user *uarg)
{
	struct kwo_name req;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	return kwo_obs_set_name(&k->obs, &req);
}

static long kwo_inst_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct kwo_kinst *k = file->private_data;

	switch (cmd) {
	case KWO_IOC_INVOKE:
		return kwo_ioctl_invoke(k, (void __user *)arg);
	case KWO_IOC_INFO:
		return kwo_ioctl_info(k, (void __user *)arg);
	case KWO_IOC_SET_NAME:
		return kwo_ioctl_set_name(k, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static void kwo_world_free(struct kwo_world *w)
{
	kvfree(w->argv);
	kvfree(w->envp);
	if (!IS_ERR(w->args))
		kvfree(w->args);
	if (!IS_ERR(w->env))
		kvfree(w->env);
}

void kwo_kinst_set_sig(struct kwo_kinst *k, const struct kwo_sig *sig)
{
	k->sig = *sig;
}

static void kwo_passed_free(struct kwo_kinst *k)
{
	u32 i;

	for (i = 0; i < k->npassed; i++)
		if (k->passed[i].file)
			fput(k->passed[i].file);
	kfree(k->passed);
}

void kwo_kinst_destroy(struct kwo_kinst *k)
{
	/* First: observers must not see it half freed. */
	kwo_obs_del(&k->obs);
	/* The core's fd table still names the passed slots: free it first. */
	if (k->inst)
		kwo_instance_free(k->inst);
	kwo_object_free(k->obj);
	kwo_world_free(&k->world);
	kwo_stdio_free(k->stdio);
	kwo_passed_free(k);
	kfree(k);
}

static int kwo_inst_release(struct inode *inode, struct file *file)
{
	kwo_kinst_destroy(file->private_data);
	return 0;
}

static const struct file_operations kwo_inst_fops = {
	.owner = THIS_MODULE,
	.release = kwo_inst_release,
	.unlocked_ioctl = kwo_inst_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/*
 * Split a block of NUL-terminated strings into an array of pointers into
 * it. The block must end with a NUL.
 */
static int kwo_split_strings(const char *block, u32 len, const char ***out,
			     u32 *count)
{
	const char **ptrs;
	u32 i, n = 0;

	*out = NULL;
	*count = 0;
	if (!len)
		return 0;
	if (block[len - 1])
		return -EINVAL;
	for (i = 0; i < len; i++)
		n += !block[i];
	ptrs = kvmalloc_array(n, sizeof(*ptrs), GFP_KERNEL_ACCOUNT);
	if (!ptrs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		ptrs[i] = block;
		block += strlen(block) + 1;
	}
	*out = ptrs;
	*count = n;
	return 0;
}

/*
 * A kernel copy of a user buffer, charged to the caller's memory cgroup:
 * the buffer or an ERR_PTR. Free with kvfree().
 */
void *kwo_copy_from_user(u64 uptr, size_t len)
{
	void *buf = kvmalloc(len, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);

	if (!buf)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(buf, u64_to_user_ptr(uptr), len)) {
		kvfree(buf);
		return ERR_PTR(-EFAULT);
	}
	return buf;
}

/* Copy a user buffer of at most max bytes; NULL for an empty one. */
static void *kwo_copy_block(u64 uptr, u32 len, u32 max)
{
	if (!len)
		return NULL;
	if (len > max)
		return ERR_PTR(-E2BIG);
	return kwo_copy_from_user(uptr, len);
}

static int kwo_world_get(const struct kwo_load *req, struct kwo_world *w,
			 struct kwo_config *cfg)
{
	int ret;

	w->args = kwo_copy_block(req->args, req->args_len, KWO_MAX_ARGS_ENV);
	w->env = kwo_copy_block(req->env, req->env_len, KWO_MAX_ARGS_ENV);
	if (IS_ERR(w->args))
		return PTR_ERR(w->args);
	if (IS_ERR(w->env))
		return PTR_ERR(w->env);
	ret = kwo_split_strings(w->args, req->args_len, &w->argv, &cfg->argc);
	if (!ret)
		ret = kwo_split_strings(w->env, req->env_len, &w->envp,
					&cfg->envc);
	cfg->argv = w->argv;
	cfg->envp = w->envp;
	return ret;
}

/*
 * The stdio slots, fd 0's block copied in; files[0..2] for the core.
 */
static int kwo_stdio_init(struct kwo_kinst *k, const struct kwo_load *req,
			  void **files)
{
	u8 *stdin_data;
	int i;

	for (i = 0; i < KWO_STDIO_SLOTS; i++) {
		k->stdio[i].fd = i;
		k->stdio[i].printk = i && (req->flags & KWO_LOAD_PRINTK);
		files[i] = &k->stdio[i];
	}
	stdin_data = kwo_copy_block(req->stdin_buf, req->stdin_len, KWO_MAX_IO);
	if (IS_ERR(stdin_data))
		return PTR_ERR(stdin_data);
	k->stdio[0].data = stdin_data;
	k->stdio[0].len = req->stdin_len;
	return 0;
}

/*
 * Take a reference to each file the loader passes (KWO_LOAD_FILES; nfiles
 * checked by dev.c) into its slot, files[3 + i] for the core (NULL for
 * -1). What was taken is dropped by kwo_passed_free(), also on error.
 */
static int kwo_passed_get(struct kwo_kinst *k, const struct kwo_load *req,
			  void **files)
{
	struct kwo_stdio *s;
	s32 *fds;
	u32 i;
	int ret = 0;

	if (!(req->flags & KWO_LOAD_FILES) || !req->nfiles)
		return 0;
	fds = memdup_user(u64_to_user_ptr(req->files),
			  array_size(req->nfiles, sizeof(*fds)));
	if (IS_ERR(fds))
		return PTR_ERR(fds);
	k->passed = kcalloc(req->nfiles, sizeof(*k->passed), GFP_KERNEL_ACCOUNT);
	if (!k->passed) {
		ret = -ENOMEM;
		goto out;
	}
	k->npassed = req->nfiles;
	for (i = 0; i < req->nfiles && !ret; i++) {
		s = &k->passed[i];
		s->fd = KWO_STDIO_SLOTS + i;
		if (fds[i] < -1) {
			ret = -EINVAL;
		} else if (fds[i] >= 0) {
			s->file = fget(fds[i]);
			ret = s->file ? 0 : -EBADF;
		}
		files[s->fd] = s->file ? s : NULL;
	}
out:
	kfree(fds);
	return ret;
}

/* The WASI world and descriptors of k; cfg->files points into files. */
static int kwo_files_init(struct kwo_kinst *k, const struct kwo_load *req,
			  struct kwo_config *cfg, void **files, char *log,
			  size_t log_len)
{
	int ret = kwo_world_get(req, &k->world, cfg);

	if (!ret)
		ret = kwo_stdio_init(k, req, files);
	if (ret) {
		snprintf(log, log_len, "bad args, env or stdin block");
		return ret;
	}
	ret = kwo_passed_get(k, req, files);
	if (ret) {
		snprintf(log, log_len, "files: %s",
			 ret == -EBADF ? "an entry is not an open descriptor" :
			 ret == -EINVAL ? "an entry is below -1" :
			 "cannot read the array");
		return ret;
	}
	cfg->files = files;
	cfg->nfiles = KWO_STDIO_SLOTS + k->npassed;
	if (req->flags & KWO_LOAD_STDIO) {
		ret = kwo_stdio_attach(k->stdio, req->stdio);
		if (ret)
			snprintf(log, log_len, "stdio: a descriptor is not open for its direction");
	}
	return ret;
}

static u32 kwo_le32(const u8 *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24;
}

static void kwo_config_fill(const struct kwo_load *req, struct kwo_config *cfg)
{
	u32 cap = min_t(u32, kwo_param_max_pages, KWO_MAX_PAGES);

	kwo_config_init(cfg);
	/* The module parameter is the ceiling; a load may only lower it. */
	cfg->max_memory_pages = req->max_pages ? min(req->max_pages, cap) : cap;
	cfg->stack_budget = kwo_param_stack_budget;
	cfg->host_reserve = kwo_param_host_reserve;
}

/*
 * A trapping start function's backtrace went to frames (room for
 * KWO_MAX_FRAMES): say how much of it there is, as KWO_IOC_INVOKE does.
 */
static void kwo_report_start_frames(const struct kwo_call *call,
				    struct kwo_load *req)
{
	req->nframes = call->status == KWO_STATUS_TRAP ? call->nframes : 0;
	req->out_flags = req->nframes && call->truncated ?
			 KWO_OUT_FRAMES_TRUNC : 0;
}

/*
 * Instantiate obj (taking ownership of it) and run its start function.
 * Returns 0 with *out set, KWO_TRAPPED with req->status/trap/exit_code
 * (and with frames, the backtrace: req->nframes) set, or a negative errno
 * with a message in log.
 */
int kwo_kinst_create(struct kwo_object *obj, struct kwo_load *req,
		     const u8 *header, char *log, size_t log_len,
		     struct kwo_bt_frame *frames, struct kwo_kinst **out)
{
	struct kwo_config cfg;
	void **files;
	struct kwo_call call;
	struct kwo_kinst *k;
	int ret;

	k = kzalloc(sizeof(*k), GFP_KERNEL_ACCOUNT);
	if (!k) {
		kwo_object_free(obj);
		return -ENOMEM;
	}
	mutex_init(&k->lock);
	k->obj = obj;
	k->load_flags = req->flags;
	k->target = kwo_le32(header + 12);
	k->obj_flags = kwo_le32(header + 16);
	k->object_len = req->object_len;
	kwo_config_fill(req, &cfg);
	k->mem_max = (u64)cfg.max_memory_pages << 16;
	/* Heap, not stack: the start function runs below this frame. */
	files = kcalloc(KWO_FD_LIMIT, sizeof(*files), GFP_KERNEL);
	ret = files ? kwo_files_init(k, req, &cfg, files, log, log_len) :
		      -ENOMEM;
	if (ret)
		goto fail;
	kwo_call_init(&call);
	call.timeout_ns = kwo_timeout_ns(req->timeout_ns);
	call.fuel = kwo_fuel(req->fuel);
	if (frames) {
		call.frames = frames;
		call.frames_cap = min_t(u32, req->frames_cap, KWO_MAX_FRAMES);
	}
	ret = kwo_instance_new(obj, &cfg, &call, &k->inst, log, log_len);
	kwo_stdio_detach(k->stdio);
	kfree(files);
	files = NULL;
	req->write_errno = call.write_errno;
	req->status = call.status;
	req->exit_code = call.exit_code;
	kwo_report_trap(&call, &req->trap);
	kwo_report_start_frames(&call, req);
	kwo_stat_ended(&call);
	if (ret)
		goto fail;
	kwo_obs_add(&k->obs, obj, k->inst, kwo_le32(header + 20),
		    req->object_len);
	*out = k;
	return 0;
fail:
	kfree(files);
	kwo_kinst_destroy(k);
	return ret;
}

/* A new O_CLOEXEC descriptor for k; frees k on failure. */
int kwo_kinst_install(struct kwo_kinst *k)
{
	int fd = anon_inode_getfd("kwo-instance", &kwo_inst_fops, k,
				  O_RDWR | O_CLOEXEC);

	if (fd < 0)
		kwo_kinst_destroy(k);
	return fd;
}
