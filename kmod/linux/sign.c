// SPDX-License-Identifier: GPL-2.0
/*
 * Signed objects (docs/security.md, "Signed objects"): the signature
 * trailer (docs/kwo-format.md, "Signature trailer"), checked with
 * verify_pkcs7_signature() against the ".kwo" keyring this module creates
 * (root fills it with X.509 certificates and may then restrict it) and the
 * kernel's builtin and secondary keyrings; under lockdown only the latter
 * two count, since root is not trusted with kernel code there. Also the
 * require_signature and min_version policy.
 */
#include <linux/cred.h>
#include <linux/key.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/security.h>
#include <linux/string.h>
#include <linux/verification.h>

#include "kwo_linux.h"

#define KWO_SIG_MAGIC		"KWOSIG1\n"
#define KWO_SIG_TRAILER_LEN	16	/* info_len, sig_len, magic[8] */
#define KWO_SIG_INFO_FIXED	16	/* version, flags, signer_len, policy_len */
#define KWO_SIG_INFO_MAX	4096
#define KWO_SIG_MAX		65536

/* Little-endian loads: the trailer's fields have no alignment. */
static u32 kwo_le32(const u8 *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24;
}

static bool kwo_param_require_signature;
static struct key *kwo_keyring;

/* Turning the requirement on is one-way: a root process cannot undo it. */
static int kwo_require_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret = kstrtobool(val, &on);

	if (ret)
		return ret;
	if (!on && kwo_param_require_signature)
		return -EPERM;
	kwo_param_require_signature = on;
	return 0;
}

static const struct kernel_param_ops kwo_require_ops = {
	.set = kwo_require_set,
	.get = param_get_bool,
};

module_param_cb(require_signature, &kwo_require_ops,
		&kwo_param_require_signature, 0644);
MODULE_PARM_DESC(require_signature,
		 "Refuse objects without a valid signature (cannot be turned off once on)");

static unsigned int kwo_param_min_version;
module_param_named(min_version, kwo_param_min_version, uint, 0444);
MODULE_PARM_DESC(min_version,
		 "Oldest signing kwo accepted, major << 16 | minor << 8 | patch");

static int kwo_keyring_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", kwo_keyring ? key_serial(kwo_keyring) : 0);
}

static const struct kernel_param_ops kwo_keyring_ops = {
	.get = kwo_keyring_get,
};

module_param_cb(keyring, &kwo_keyring_ops, NULL, 0444);
MODULE_PARM_DESC(keyring, "Serial of the .kwo keyring (read only)");

/* The module-signature lockdown reason: what kwo.ko answers to. */
static bool kwo_locked_down(void)
{
	return security_locked_down(LOCKDOWN_MODULE_SIGNATURE) != 0;
}

static bool kwo_signature_required(void)
{
	return READ_ONCE(kwo_param_require_signature) ||
	       is_module_sig_enforced() || kwo_locked_down();
}

int kwo_sign_init(void)
{
	key_perm_t perm = (KEY_POS_ALL & ~KEY_POS_SETATTR) | KEY_USR_VIEW |
			  KEY_USR_READ | KEY_USR_WRITE | KEY_USR_SEARCH |
			  KEY_USR_SETATTR;

	kwo_keyring = keyring_alloc(".kwo", GLOBAL_ROOT_UID, GLOBAL_ROOT_GID,
				    current_cred(), perm, KEY_ALLOC_NOT_IN_QUOTA,
				    NULL, NULL);
	if (IS_ERR(kwo_keyring)) {
		int ret = PTR_ERR(kwo_keyring);

		kwo_keyring = NULL;
		return ret;
	}
	/* Forced on for good: a later lift of the conditions changes nothing. */
	if (is_module_sig_enforced() || kwo_locked_down())
		kwo_param_require_signature = true;
	return 0;
}

void kwo_sign_exit(void)
{
	key_put(kwo_keyring);
}

/*
 * Check the PKCS#7 signature over signed[0..signed_len). The .kwo keyring
 * first (unless locked down), then the builtin and secondary keyrings.
 */
static int kwo_sig_verify(const u8 *signed_data, size_t signed_len,
			  const u8 *sig, size_t sig_len)
{
	int ret = -ENOKEY;

	if (!kwo_locked_down())
		ret = verify_pkcs7_signature(signed_data, signed_len, sig,
					     sig_len, kwo_keyring,
					     VERIFYING_UNSPECIFIED_SIGNATURE,
					     NULL, NULL);
	if (ret == -ENOKEY)
		ret = verify_pkcs7_signature(signed_data, signed_len, sig,
					     sig_len,
					     VERIFY_USE_SECONDARY_KEYRING,
					     VERIFYING_UNSPECIFIED_SIGNATURE,
					     NULL, NULL);
	return ret;
}

/* The signed info record: lengths, then the signer's name for KWO_IOC_INFO. */
static int kwo_sig_info(const u8 *info, u32 info_len, struct kwo_sig *sig)
{
	u32 signer_len = kwo_le32(info + 8);
	u32 policy_len = kwo_le32(info + 12);

	if ((u64)KWO_SIG_INFO_FIXED + signer_len + policy_len != info_len)
		return -EBADMSG;
	sig->kwo_version = kwo_le32(info);
	memcpy(sig->signer, info + KWO_SIG_INFO_FIXED,
	       min_t(u32, signer_len, sizeof(sig->signer) - 1));
	return 0;
}

static const char *kwo_sig_reason(int err)
{
	switch (err) {
	case -ENOKEY:
		return "signed by a key in none of kwo's keyrings";
	case -EKEYREJECTED:
		return "signature does not match the object";
	case -EBADMSG:
		return "malformed signature";
	default:
		return "signature check failed";
	}
}

/*
 * Split bytes[0..len) at its signature trailer, if any, and check it:
 * *object_len is what the core validates. An unsigned object, or one whose
 * signature does not verify, is refused only when a signature is required
 * (and then loads as unsigned: sig->verified stays false). A malformed
 * trailer is always refused.
 */
int kwo_sig_check(const u8 *bytes, u32 len, u32 *object_len,
		  struct kwo_sig *sig, char *log, size_t log_size)
{
	u32 info_len, sig_len, signed_len;
	int ret;

	memset(sig, 0, sizeof(*sig));
	*object_len = len;
	if (len < KWO_SIG_TRAILER_LEN ||
	    memcmp(bytes + len - 8, KWO_SIG_MAGIC, 8)) {
		if (!kwo_signature_required())
			return 0;
		snprintf(log, log_size, "object is not signed, and kwo.ko requires a signature");
		return -EKEYREJECTED;
	}
	info_len = kwo_le32(bytes + len - KWO_SIG_TRAILER_LEN);
	sig_len = kwo_le32(bytes + len - KWO_SIG_TRAILER_LEN + 4);
	if (info_len < KWO_SIG_INFO_FIXED || info_len > KWO_SIG_INFO_MAX ||
	    !sig_len || sig_len > KWO_SIG_MAX ||
	    (u64)info_len + sig_len + KWO_SIG_TRAILER_LEN > len) {
		snprintf(log, log_size, "malformed signature trailer (info %u, signature %u bytes)",
			 info_len, sig_len);
		return -EBADMSG;
	}
	signed_len = len - KWO_SIG_TRAILER_LEN - sig_len;
	*object_len = signed_len - info_len;
	ret = kwo_sig_info(bytes + *object_len, info_len, sig);
	if (!ret)
		ret = kwo_sig_verify(bytes, signed_len, bytes + signed_len, sig_len);
	if (ret) {
		memset(sig, 0, sizeof(*sig));
		if (!kwo_signature_required())
			return 0;
		snprintf(log, log_size, "%s (%d)", kwo_sig_reason(ret), ret);
		return ret == -EKEYREJECTED || ret == -ENOKEY ? ret : -EBADMSG;
	}
	if (sig->kwo_version < kwo_param_min_version) {
		snprintf(log, log_size, "signed by kwo %u.%u.%u, older than min_version",
			 sig->kwo_version >> 16, (sig->kwo_version >> 8) & 0xff,
			 sig->kwo_version & 0xff);
		return -EKEYREJECTED;
	}
	sig->verified = true;
	return 0;
}
