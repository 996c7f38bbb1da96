/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels kmqtt supports (Debian 12's 6.1 LTS and 6.12 from
 * bookworm-backports) live here and nowhere else, so that the rest reads like mainline.
 */
#ifndef KMQTT_COMPAT_H
#define KMQTT_COMPAT_H

/* 6.12 moved the unaligned access helpers from asm/ to linux/ (probed by Kbuild). */
#ifdef KMQTT_HAVE_LINUX_UNALIGNED_H
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

#endif /* KMQTT_COMPAT_H */
