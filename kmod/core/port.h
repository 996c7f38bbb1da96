/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Porting header for kmqtt's portable core (MQTT codec, topic trie).
 *
 * The same core sources are compiled into kmqtt.ko, into kmqttd and kmqttctl, into the
 * unit tests and into the fuzzers. Everything the core needs from its environment goes
 * through this header: fixed-width types, memory, byte order and the RCU publication
 * primitives the trie uses so that the kernel can match under rcu_read_lock() while
 * writers are serialized by the caller.
 *
 * Allocation: kmq_alloc()/kmq_zalloc() may sleep in the kernel (GFP_KERNEL); the core
 * never allocates from atomic context. Every allocation is bounded by a caller-supplied
 * limit (see struct mqtt_limits and struct topic_limits).
 */
#ifndef KMQTT_CORE_PORT_H
#define KMQTT_CORE_PORT_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/string.h>
#include <linux/slab.h>
#include <linux/rcupdate.h>
#include <linux/random.h>
#include "../compat.h"
#include <linux/errno.h>
#include <linux/compiler.h>

#define kmq_alloc(sz)		kmalloc((sz), GFP_KERNEL_ACCOUNT)
#define kmq_zalloc(sz)		kzalloc((sz), GFP_KERNEL_ACCOUNT)
#define kmq_free(p)		kfree(p)
/* Free an object that RCU readers may still see; @head is its struct rcu_head member. */
#define kmq_free_rcu(p, head)	kfree_rcu((p), head)
#define kmq_rcu_head		struct rcu_head
#define kmq_rcu_assign(p, v)	rcu_assign_pointer((p), (v))
#define kmq_rcu_deref(p)	rcu_dereference_check((p), 1)
#define kmq_likely(x)		likely(x)
#define kmq_unlikely(x)		unlikely(x)
/* Large arrays (hash tables): kmalloc when it can, vmalloc otherwise. */
#define kmq_kvzalloc(sz)	kvzalloc((sz), GFP_KERNEL_ACCOUNT)
#define kmq_kvfree(p)		kvfree(p)
#define kmq_kvfree_rcu(p, head)	kvfree_rcu((p), head)
/* Writer-side access to an __rcu pointer, under the writer's lock. */
#define kmq_rcu_protected(p)	rcu_dereference_protected((p), 1)
/* Store that needs no ordering: NULL or an object readers cannot see yet. */
#define kmq_rcu_init(p, v)	RCU_INIT_POINTER((p), (v))
/* Racy but untorn access to a scalar shared with concurrent readers. */
#define kmq_read_once(x)	READ_ONCE(x)
#define kmq_write_once(x, v)	WRITE_ONCE((x), (v))
/* Seed for keyed hashes, so that remote peers cannot aim for collisions. */
#define kmq_random_u64()	get_random_u64()

#else /* userspace: daemon, CLI, unit tests, fuzzers */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;

#define kmq_alloc(sz)		malloc(sz)
#define kmq_zalloc(sz)		calloc(1, (sz))
#define kmq_free(p)		free(p)
/*
 * Userspace users of the trie hold their own lock around readers and writers, so a node
 * can be freed at once.
 */
#define kmq_free_rcu(p, head)	kmq_free_now((p), #head)
#define kmq_rcu_head		struct { void *unused; }
#define kmq_rcu_assign(p, v)	__atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define kmq_rcu_deref(p)	__atomic_load_n(&(p), __ATOMIC_CONSUME)
#define kmq_likely(x)		__builtin_expect(!!(x), 1)
#define kmq_unlikely(x)		__builtin_expect(!!(x), 0)
#define kmq_kvzalloc(sz)	calloc(1, (sz))
#define kmq_kvfree(p)		free(p)
#define kmq_kvfree_rcu(p, head)	kmq_free_now((p), #head)
#define kmq_rcu_protected(p)	(p)
#define kmq_rcu_init(p, v)	((p) = (v))
#define kmq_read_once(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define kmq_write_once(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#ifndef __rcu
#define __rcu
#endif

static inline u64 kmq_random_u64(void)
{
	u64 v;

	if (getentropy(&v, sizeof(v)))
		v = (u64)(uintptr_t)&v ^ 0x9e3779b97f4a7c15ULL;
	return v;
}

static inline void kmq_free_now(void *p, const char *rcu_member)
{
	(void)rcu_member;
	free(p);
}

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

static inline u16 get_unaligned_be16(const void *p)
{
	const u8 *b = p;

	return (u16)(b[0] << 8 | b[1]);
}

static inline u32 get_unaligned_be32(const void *p)
{
	const u8 *b = p;

	return (u32)b[0] << 24 | (u32)b[1] << 16 | (u32)b[2] << 8 | b[3];
}

static inline void put_unaligned_be16(u16 v, void *p)
{
	u8 *b = p;

	b[0] = v >> 8;
	b[1] = v;
}

static inline void put_unaligned_be32(u32 v, void *p)
{
	u8 *b = p;

	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

#endif /* __KERNEL__ */

#endif /* KMQTT_CORE_PORT_H */
