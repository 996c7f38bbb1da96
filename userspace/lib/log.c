// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Logging to stderr, one line per event with a level tag. Under systemd, stderr goes to
 * the journal, which adds the timestamp; "<N>" prefixes give the journal the priority.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "log.h"

static const char *log_ident = "kmqtt";
static enum kmq_log_level log_min = KMQ_LOG_INFO;
static int log_journal;

static const struct {
	const char *name;
	int syslog_prio;
} levels[] = {
	[KMQ_LOG_DEBUG] = { "debug", 7 },
	[KMQ_LOG_INFO] = { "info", 6 },
	[KMQ_LOG_NOTICE] = { "notice", 5 },
	[KMQ_LOG_WARNING] = { "warning", 4 },
	[KMQ_LOG_ERR] = { "error", 3 },
};

void kmq_log_init(const char *ident, enum kmq_log_level min)
{
	log_ident = ident;
	log_min = min;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void kmq_log_set_level(enum kmq_log_level min)
{
	log_min = min;
}

int kmq_log_level_parse(const char *s, enum kmq_log_level *out)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (!strcasecmp(s, levels[i].name)) {
			*out = (enum kmq_log_level)i;
			return 0;
		}
	}
	return -1;
}

void kmq_log(enum kmq_log_level lvl, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (lvl < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_journal)
		fprintf(stderr, "<%d>%s\n", levels[lvl].syslog_prio, buf);
	else
		fprintf(stderr, "%s: %s: %s\n", log_ident, levels[lvl].name, buf);
}
