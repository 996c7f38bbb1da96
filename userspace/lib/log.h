/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef KMQ_LOG_H
#define KMQ_LOG_H

enum kmq_log_level { KMQ_LOG_DEBUG, KMQ_LOG_INFO, KMQ_LOG_NOTICE, KMQ_LOG_WARNING, KMQ_LOG_ERR };

void kmq_log_init(const char *ident, enum kmq_log_level min);
void kmq_log_set_level(enum kmq_log_level min);
int kmq_log_level_parse(const char *s, enum kmq_log_level *out);
void kmq_log(enum kmq_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) kmq_log(KMQ_LOG_DEBUG, __VA_ARGS__)
#define log_info(...) kmq_log(KMQ_LOG_INFO, __VA_ARGS__)
#define log_notice(...) kmq_log(KMQ_LOG_NOTICE, __VA_ARGS__)
#define log_warn(...) kmq_log(KMQ_LOG_WARNING, __VA_ARGS__)
#define log_err(...) kmq_log(KMQ_LOG_ERR, __VA_ARGS__)

#endif
