/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef KMQ_FILEERR_H
#define KMQ_FILEERR_H

#include <stddef.h>

/*
 * Write "PATH:LINE: message" into @err (the form every configuration, password and ACL
 * file error takes) and return -1.
 */
int kmq_file_err(char *err, size_t errlen, const char *path, unsigned int line,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
