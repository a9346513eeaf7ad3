// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kwo: the API version handshake and KWO_IOC_LOAD, which validates an
 * object with the core and returns an instance file descriptor
 * (instance.c). The device node is root-only (0600); loading also requires
 * CAP_SYS_ADMIN and CAP_SYS_MODULE and is refused under kernel lockdown:
 * see docs/security.md for the trust model.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/kwo.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kwo_linux.h"
#include "../core/kwo_core.h"

#define KWO_LOG_SIZE	512	/* validator messages are one line */

static long kwo_ioctl_version(void __user *uarg)
{
	struct kwo_version ver = {
		.api_version = KWO_API_VERSION,
		.object_version = KWO_VERSION,
		.targets = IS_ENABLED(CONFIG_X86_64) ? 1u << KWO_TARGET_X86_64 :
			   1u << KWO_TARGET_AARCH64,
		.features = KWO_FEAT_FPU | KWO_FEAT_PRINTK | KWO_FEAT_STDIO |
			    KWO_FEAT_FILES | KWO_FEAT_NAME |
			    KWO_FEAT_BACKTRACE | KWO_FEAT_LOAD_BACKTRACE,
		.max_object_size = kwo_param_max_object,
	};

	return copy_to_user(uarg, &ver, sizeof(ver)) ? -EFAULT : 0;
}

/* files/nfiles are meaningful with KWO_LOAD_FILES, reserved (zero) without. */
static bool kwo_files_valid(const struct kwo_load *req)
{
	if (req->flags & KWO_LOAD_FILES)
		return req->nfiles <= KWO_MAX_FILES;
	return !req->files && !req->nfiles;
}

static bool kwo_load_valid(const struct kwo_load *req)
{
	/* Passed files take the fds after stdio, within the core's table. */
	BUILD_BUG_ON(KWO_STDIO_SLOTS + KWO_MAX_FILES > KWO_FD_LIMIT);
	return !req->reserved && !memchr_inv(req->reserved2, 0,
					     sizeof(req->reserved2)) &&
	       !(req->flags & ~KWO_LOAD_KNOWN) && req->object_len &&
	       kwo_files_valid(req) && (req->frames || !req->frames_cap) &&
	       kwo_stdio_valid(req->stdio, req->flags & KWO_LOAD_STDIO);
}

/*
 * Validate the object and instantiate it into *k. Returns 0 or a negative
 * errno; log gets the core's message, frames (NULL: none wanted) a trapping
 * start function's backtrace.
 */
static int kwo_load(struct kwo_load *req, char *log,
		    struct kwo_bt_frame *frames, struct kwo_kinst **k)
{
	struct kwo_object *obj;
	u8 header[sizeof(struct kwo_header)] = { 0 };
	struct kwo_sig sig;
	u32 object_len;
	void *bytes;
	int ret;

	if (req->object_len > kwo_param_max_object) {
		snprintf(log, KWO_LOG_SIZE, "object of %u bytes exceeds the limit of %u",
			 req->object_len, kwo_param_max_object);
		return -E2BIG;
	}
	bytes = kwo_copy_from_user(req->object, req->object_len);
	if (IS_ERR(bytes))
		return PTR_ERR(bytes);
	ret = kwo_sig_check(bytes, req->object_len, &object_len, &sig, log,
			    KWO_LOG_SIZE);
	if (ret) {
		kvfree(bytes);
		return ret;
	}
	memcpy(header, bytes, min_t(size_t, object_len, sizeof(header)));
	ret = kwo_object_load(bytes, object_len, &obj, log, KWO_LOG_SIZE);
	kvfree(bytes);
	if (ret)
		return ret;
	ret = kwo_kinst_create(obj, req, header, log, KWO_LOG_SIZE, frames, k);
	if (!ret)
		kwo_kinst_set_sig(*k, &sig);
	return ret == KWO_TRAPPED ? -ECANCELED : ret;
}

/* Copy the message back; log_len is its full length. */
static int kwo_put_log(struct kwo_load *req, const char *log)
{
	size_t len = strnlen(log, KWO_LOG_SIZE - 1);

	req->log_len = len;
	if (!req->log_buf || !req->log_size || !len)
		return 0;
	len = min_t(size_t, len, req->log_size - 1);
	if (copy_to_user(u64_to_user_ptr(req->log_buf), log, len) ||
	    put_user(0, (char __user *)u64_to_user_ptr(req->log_buf) + len))
		return -EFAULT;
	return 0;
}

/*
 * The start function's backtrace to the caller's array: 0 or -EFAULT.
 * req->nframes was set by kwo_kinst_create() (at most KWO_MAX_FRAMES, 0
 * unless the start function trapped), never taken from userspace.
 */
static int kwo_put_frames(const struct kwo_load *req,
			  const struct kwo_bt_frame *frames)
{
	BUILD_BUG_ON(sizeof(struct kwo_frame) != sizeof(*frames));
	if (!req->nframes)
		return 0;
	if (copy_to_user(u64_to_user_ptr(req->frames), frames,
			 req->nframes * sizeof(*frames)))
		return -EFAULT;
	return 0;
}

/*
 * Room for a start function's backtrace when the caller asked for one:
 * NULL otherwise, or an ERR_PTR.
 */
static struct kwo_bt_frame *kwo_frames_alloc(const struct kwo_load *req)
{
	struct kwo_bt_frame *frames;

	if (!req->frames || !req->frames_cap)
		return NULL;
	frames = kcalloc(KWO_MAX_FRAMES, sizeof(*frames), GFP_KERNEL);
	return frames ? frames : ERR_PTR(-ENOMEM);
}

/*
 * Loading an object puts native code into the kernel: the same power as
 * loading a module, so the same bar. Both capabilities (a process that
 * dropped CAP_SYS_MODULE must not get around that through kwo); under
 * lockdown or enforced module signatures, kwo_sig_check() then demands a
 * signature by a key of the kernel's builtin or secondary keyrings.
 */
static int kwo_may_load(void)
{
	if (!capable(CAP_SYS_ADMIN) || !capable(CAP_SYS_MODULE))
		return -EPERM;
	return 0;
}

/*
 * KWO_IOC_LOAD with a request of usize bytes (KWO_LOAD_SIZE_VER0 or the
 * whole struct, see the uapi header): the fields after usize read as zero,
 * and no more than usize bytes are written back.
 */
static long kwo_ioctl_load(struct kwo_load __user *uarg, size_t usize)
{
	struct kwo_bt_frame *frames;
	struct kwo_kinst *k = NULL;
	struct kwo_load req = { 0 };
	char *log;
	int ret, err;

	BUILD_BUG_ON(offsetofend(struct kwo_load, reserved) != KWO_LOAD_SIZE_VER0);
	ret = kwo_may_load();
	if (ret)
		return ret;
	if (copy_from_user(&req, uarg, usize))
		return -EFAULT;
	if (!kwo_load_valid(&req))
		return -EINVAL;
	/* Output only: kwo_put_frames() must not trust them. */
	req.nframes = 0;
	req.out_flags = 0;
	frames = kwo_frames_alloc(&req);
	if (IS_ERR(frames))
		return PTR_ERR(frames);
	log = kzalloc(KWO_LOG_SIZE, GFP_KERNEL);
	if (!log) {
		kfree(frames);
		return -ENOMEM;
	}
	ret = kwo_load(&req, log, frames, &k);
	/* Only a trapped start function has frames, and it left no instance. */
	if (kwo_put_frames(&req, frames))
		ret = -EFAULT;
	kfree(frames);
	/*
	 * The request goes back even when the log cannot: a trapped start
	 * function's status, trap and frames must not be left stale behind
	 * an ECANCELED. Outputs that cannot be delivered make it EFAULT.
	 */
	err = kwo_put_log(&req, log);
	if (copy_to_user(uarg, &req, usize))
		err = -EFAULT;
	kfree(log);
	if (err) {
		if (!ret)
			kwo_kinst_destroy(k);
		return err;
	}
	/* Installed last: once the descriptor exists it cannot be taken back. */
	return ret ? ret : kwo_kinst_install(k);
}

static long kwo_dev_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	long ret;

	switch (cmd) {
	case KWO_IOC_VERSION:
		return kwo_ioctl_version((void __user *)arg);
	case KWO_IOC_LOAD:
	case KWO_IOC_LOAD_VER0:
		ret = kwo_ioctl_load((struct kwo_load __user *)arg,
				     _IOC_SIZE(cmd));
		kwo_stat_load(ret >= 0);
		return ret;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations kwo_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = kwo_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice kwo_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kwo",
	.fops = &kwo_dev_fops,
	.mode = 0600,
};

int kwo_dev_init(void)
{
	return misc_register(&kwo_miscdev);
}

void kwo_dev_exit(void)
{
	misc_deregister(&kwo_miscdev);
}
