// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Who may connect: the password file (mosquitto_passwd's format) and allow_anonymous.
 *
 *   password_file  user name  decision
 *   yes            given      the password must match: else CONNACK 0x04
 *   yes / no       none       allow_anonymous, else CONNACK 0x05
 *   no             given      allow_anonymous (the name is not verified: for the ACL the
 *                             client is anonymous), else CONNACK 0x05
 *
 * A user name is trusted for the ACL ("user" sections, %u) only once its password was
 * checked: without a password file anybody could claim any name.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/ssl.h>
#include "acl.h"
#include "kmqttd.h"
#include "passwd.h"

int auth_load(const struct kmq_conf *c, struct auth *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (c->password_file && kmq_passwd_load(c->password_file, &a->pw, err, errlen))
		goto fail;
	if (c->acl_file && kmq_acl_load(c->acl_file, &a->acl, err, errlen))
		goto fail;
	/* TLS listeners: certificates, keys, CAs and CRLs, checked now (kmqttd -t too). */
	for (unsigned int i = 0; i < c->n_listeners; i++)
		if (c->listeners[i].tls && tls_ctx_new(&c->listeners[i], &a->tls[i], err, errlen))
			goto fail;
	if (revocations_load(c->revocation_file, &a->rev, err, errlen))
		goto fail;
	return 0;
fail:
	auth_free(a);
	return -1;
}

void auth_free(struct auth *a)
{
	kmq_passwd_free(a->pw);
	kmq_acl_free(a->acl);
	for (unsigned int i = 0; i < KMQ_CONF_MAX_LISTENERS; i++)
		SSL_CTX_free(a->tls[i]);
	revocations_free(a->rev);
	memset(a, 0, sizeof(*a));
}

enum auth_verdict auth_check(struct kmqttd *d, const struct mqtt_connect *c, bool *verified)
{
	const void *pass = NULL;

	*verified = false;
	if (!c->has_username || !d->auth.pw)
		return d->conf.allow_anonymous ? AUTH_OK : AUTH_NOT_AUTHORIZED;
	/* An empty password is a password; a CONNECT without the flag has none. */
	if (c->has_password)
		pass = c->password.p ? (const void *)c->password.p : (const void *)"";
	switch (kmq_passwd_check(d->auth.pw, c->username.s, c->username.len, pass,
				 c->has_password ? c->password.len : 0)) {
	case KMQ_PASSWD_OK:
		*verified = true;
		return AUTH_OK;
	case KMQ_PASSWD_NO_USER:
	case KMQ_PASSWD_MISMATCH:
		return AUTH_BAD_CREDENTIALS;
	case KMQ_PASSWD_ERROR:
		break;
	}
	return AUTH_ERROR;
}
