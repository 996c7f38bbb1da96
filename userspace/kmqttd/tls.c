// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * TLS listeners: the handshake in the daemon (OpenSSL 3), then kernel TLS for both
 * directions, so that kmqtt.ko reads and writes the records itself.
 *
 * Sending: OpenSSL's SSL_OP_ENABLE_KTLS hands the write keys to the kernel for TLS 1.2 and
 * 1.3. Receiving: OpenSSL 3.0 does it for TLS 1.2 only. For TLS 1.3 we install the
 * receive key ourselves: the client's application traffic secret arrives through the
 * key-log callback (the only public way OpenSSL 3.0 gives it out), key and IV follow from
 * it by HKDF-Expand-Label (RFC 8446, 7.1 and 7.3), and the record sequence number is 0
 * because OpenSSL, without read-ahead, has read nothing past the client's Finished. The
 * secret lives in the connection only until the key is installed and is wiped then.
 * docs/design.md says why this and not GnuTLS.
 *
 * A connection whose two directions cannot both be offloaded is refused and counted
 * (tls_not_offloaded): kmqtt never carries a TLS client in plaintext. After the
 * handshake the SSL object is freed: the daemon reads the CONNECT from the kTLS socket
 * with recv(), which decrypts a record and leaves what follows the CONNECT to the module.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>
#include <linux/tls.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/core_names.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "kmqttd.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

/* kmqtt's defaults: AEAD ciphers that kTLS offloads, forward secrecy only. */
#define TLS12_DEFAULT_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS13_DEFAULT_SUITES \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

static int ssl_pconn_idx = -1;
/* kmqttctl revoke's list, checked by the verify callback (the daemon has one thread). */
static const struct revocations *revocation_list;

void tls_set_revocations(const struct revocations *r)
{
	revocation_list = r;
}

static void name_rfc2253(X509_NAME *name, char *buf, size_t len);

static void ssl_err_string(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "unknown error");
	ERR_clear_error();
}

static int ctx_fail(const char *what, const char *file, char *err, size_t errlen)
{
	char e[256];

	ssl_err_string(e, sizeof(e));
	snprintf(err, errlen, "%s%s%s: %s", file ? file : "", file ? ": " : "", what, e);
	return -1;
}

/* The key-log callback: keep the client's TLS 1.3 application traffic secret. */
static void keylog(const SSL *ssl, const char *line)
{
	static const char label[] = "CLIENT_TRAFFIC_SECRET_0 ";
	struct tls_secret *s = SSL_get_ex_data(ssl, ssl_pconn_idx);
	const char *p;
	size_t n = 0;

	if (!s || strncmp(line, label, sizeof(label) - 1))
		return;
	p = strchr(line + sizeof(label) - 1, ' ');	/* after the client random */
	if (!p)
		return;
	for (p++; p[0] && p[1] && n < sizeof(s->secret); p += 2) {
		unsigned int b;

		if (sscanf(p, "%2x", &b) != 1)
			return;
		s->secret[n++] = (uint8_t)b;
	}
	s->len = (uint8_t)n;
}

/*
 * OpenSSL's verdict on each certificate of the chain, then ours on the client's own: a
 * certificate on the revocation list fails the handshake as a CRL entry would.
 */
static int verify(int ok, X509_STORE_CTX *xs)
{
	X509 *cert = X509_STORE_CTX_get_current_cert(xs);
	char serial[KMQTT_MAX_CERT_SERIAL + 8], cn[KMQTT_MAX_USERNAME + 1] = "";
	X509_NAME *subj;

	if (!ok || X509_STORE_CTX_get_error_depth(xs) != 0 || !cert)
		return ok;
	tls_serial_of(X509_get0_serialNumber(cert), serial, sizeof(serial));
	subj = X509_get_subject_name(cert);
	X509_NAME_get_text_by_NID(subj, NID_commonName, cn, sizeof(cn));
	if (revoked(revocation_list, serial, cn)) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REVOKED);
		return 0;
	}
	return ok;
}

bool tls_crl_revoked(SSL_CTX *ctx, const char *issuer, const char *serial)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn = NULL;
	bool ret = false;

	if (!objs || !BN_hex2bn(&bn, serial) || !(ai = BN_to_ASN1_INTEGER(bn, NULL)))
		goto out;
	for (int i = 0; i < sk_X509_OBJECT_num(objs) && !ret; i++) {
		X509_CRL *crl = X509_OBJECT_get0_X509_CRL(sk_X509_OBJECT_value(objs, i));
		X509_REVOKED *rev;
		char name[KMQTT_MAX_CERT_ISSUER + 1];

		if (!crl)
			continue;
		name_rfc2253(X509_CRL_get_issuer(crl), name, sizeof(name));
		if (!strcmp(name, issuer) && X509_CRL_get0_by_serial(crl, &rev, ai) == 1)
			ret = true;
	}
out:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return ret;
}

int tls_ctx_new(const struct kmq_listener *l, SSL_CTX **out, char *err, size_t errlen)
{
	const struct kmq_tls_conf *t = &l->t;
	SSL_CTX *ctx;

	if (ssl_pconn_idx < 0)
		ssl_pconn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return ctx_fail("cannot create a TLS context", NULL, err, errlen);
	/* TLS 1.2 and 1.3 only; no renegotiation, no compression: kTLS carries neither. */
	SSL_CTX_set_min_proto_version(ctx, t->min_version);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS | SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_read_ahead(ctx, 0);
	SSL_CTX_set_keylog_callback(ctx, keylog);
	if (!SSL_CTX_set_cipher_list(ctx, t->ciphers ? t->ciphers : TLS12_DEFAULT_CIPHERS)) {
		snprintf(err, errlen, "listener %u: ciphers '%s': no cipher OpenSSL knows", l->port,
			 t->ciphers ? t->ciphers : TLS12_DEFAULT_CIPHERS);
		goto fail_quiet;
	}
	if (!SSL_CTX_set_ciphersuites(ctx, t->ciphersuites ? t->ciphersuites : TLS13_DEFAULT_SUITES)) {
		snprintf(err, errlen, "listener %u: ciphersuites '%s': not TLS 1.3 cipher suites",
			 l->port, t->ciphersuites);
		goto fail_quiet;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, t->certfile) != 1) {
		ctx_fail("cannot load the certificate chain", t->certfile, err, errlen);
		goto fail_quiet;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, t->keyfile, SSL_FILETYPE_PEM) != 1) {
		ctx_fail("cannot load the private key", t->keyfile, err, errlen);
		goto fail_quiet;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "%s: the private key does not match the certificate %s",
			 t->keyfile, t->certfile);
		goto fail_quiet;
	}
	if (t->cafile) {
		STACK_OF(X509_NAME) *names;

		if (SSL_CTX_load_verify_locations(ctx, t->cafile, NULL) != 1) {
			ctx_fail("cannot load the CA certificates", t->cafile, err, errlen);
			goto fail_quiet;
		}
		names = SSL_load_client_CA_file(t->cafile);
		if (names)
			SSL_CTX_set_client_CA_list(ctx, names);
	}
	if (t->crlfile) {
		X509_STORE *store = SSL_CTX_get_cert_store(ctx);
		X509_LOOKUP *lk = X509_STORE_add_lookup(store, X509_LOOKUP_file());

		if (!lk || X509_load_crl_file(lk, t->crlfile, X509_FILETYPE_PEM) < 1) {
			ctx_fail("cannot load the CRL", t->crlfile, err, errlen);
			goto fail_quiet;
		}
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	}
	if (t->require_certificate)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify);
	else if (t->cafile)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify);
	*out = ctx;
	return 0;

fail_quiet:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return -1;
}

/* Is kernel TLS there at all? A TCP socket that is not connected tells without harm. */
int tls_kernel_probe(char *err, size_t errlen)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ret;

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	ret = setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls"));
	if (ret < 0 && errno == ENOTCONN)
		ret = 0;	/* the tls module is there; it wants a connected socket */
	else if (ret < 0)
		snprintf(err, errlen,
			 "kernel TLS is not available (%s): load the 'tls' module (modprobe tls) or use a kernel with CONFIG_TLS",
			 strerror(errno));
	close(fd);
	return ret < 0 ? -1 : 0;
}

/* HKDF-Expand-Label(secret, label, "", len) of RFC 8446, 7.1. */
static int hkdf_expand_label(const char *md, const uint8_t *secret, size_t slen,
			     const char *label, uint8_t *out, size_t len)
{
	uint8_t info[2 + 1 + 6 + 32 + 1];
	size_t llen = strlen(label), n = 0;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[5];
	EVP_KDF_CTX *kctx;
	EVP_KDF *kdf;
	int ret;

	if (llen > 32)
		return -1;
	info[n++] = (uint8_t)(len >> 8);
	info[n++] = (uint8_t)len;
	info[n++] = (uint8_t)(6 + llen);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, llen);
	n += llen;
	info[n++] = 0;	/* empty context */
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	params[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, slen);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
	params[4] = OSSL_PARAM_construct_end();
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	ret = kctx && EVP_KDF_derive(kctx, out, len, params) == 1 ? 0 : -1;
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	OPENSSL_cleanse(info, sizeof(info));
	return ret;
}

/* Install the TLS 1.3 receive key from the client's application traffic secret. */
static int ktls_rx_tls13(int fd, SSL *ssl, const struct tls_secret *s, const char **why)
{
	union {
		struct tls12_crypto_info_aes_gcm_128 g128;
		struct tls12_crypto_info_aes_gcm_256 g256;
		struct tls12_crypto_info_chacha20_poly1305 cc;
	} ci;
	uint8_t key[32], iv[12];
	const char *md;
	size_t klen, size;
	uint16_t suite;
	int ret = -1;

	memset(&ci, 0, sizeof(ci));
	suite = SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(ssl));
	switch (suite) {
	case 0x1301:	/* TLS_AES_128_GCM_SHA256 */
		md = "SHA256";
		klen = 16;
		break;
	case 0x1302:	/* TLS_AES_256_GCM_SHA384 */
		md = "SHA384";
		klen = 32;
		break;
	case 0x1303:	/* TLS_CHACHA20_POLY1305_SHA256 */
		md = "SHA256";
		klen = 32;
		break;
	default:
		*why = "no kernel TLS for this cipher suite";
		return -1;
	}
	if (!s->len || s->len != (uint8_t)EVP_MD_get_size(EVP_get_digestbyname(md))) {
		*why = "the client's traffic secret is missing";
		return -1;
	}
	if (hkdf_expand_label(md, s->secret, s->len, "key", key, klen) ||
	    hkdf_expand_label(md, s->secret, s->len, "iv", iv, sizeof(iv))) {
		*why = "key derivation failed";
		goto out;
	}
	/* The kernel's nonce is salt || iv, XORed with the sequence number (0 here). */
	switch (suite) {
	case 0x1301:
		ci.g128.info.version = TLS_1_3_VERSION;
		ci.g128.info.cipher_type = TLS_CIPHER_AES_GCM_128;
		memcpy(ci.g128.key, key, 16);
		memcpy(ci.g128.salt, iv, 4);
		memcpy(ci.g128.iv, iv + 4, 8);
		size = sizeof(ci.g128);
		break;
	case 0x1302:
		ci.g256.info.version = TLS_1_3_VERSION;
		ci.g256.info.cipher_type = TLS_CIPHER_AES_GCM_256;
		memcpy(ci.g256.key, key, 32);
		memcpy(ci.g256.salt, iv, 4);
		memcpy(ci.g256.iv, iv + 4, 8);
		size = sizeof(ci.g256);
		break;
	default:
		ci.cc.info.version = TLS_1_3_VERSION;
		ci.cc.info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
		memcpy(ci.cc.key, key, 32);
		memcpy(ci.cc.iv, iv, 12);
		size = sizeof(ci.cc);
		break;
	}
	if (setsockopt(fd, SOL_TLS, TLS_RX, &ci, (socklen_t)size) < 0)
		*why = "the kernel refused the receive key";
	else
		ret = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(iv, sizeof(iv));
	OPENSSL_cleanse(&ci, sizeof(ci));
	return ret;
}

SSL *tls_new(SSL_CTX *ctx, int fd, struct tls_secret *s)
{
	SSL *ssl = SSL_new(ctx);

	if (!ssl)
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1 || SSL_set_ex_data(ssl, ssl_pconn_idx, s) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

/* Serial numbers as kmqtt shows and compares them: upper-case hex, no leading zeros. */
void tls_serial_normalize(char *s)
{
	size_t i = 0, j = 0, n = strlen(s);

	for (i = 0; i < n; i++)
		if (s[i] != ':')
			s[j++] = (char)(s[i] >= 'a' && s[i] <= 'f' ? s[i] - 32 : s[i]);
	s[j] = 0;
	for (i = 0; s[i] == '0' && s[i + 1]; i++)
		;
	memmove(s, s + i, strlen(s + i) + 1);
}

bool tls_serial_valid(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > KMQTT_MAX_CERT_SERIAL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

static void name_rfc2253(X509_NAME *name, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n = 0;

	buf[0] = 0;
	if (!b)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		n = BIO_read(b, buf, (int)len - 1);
		buf[n > 0 ? n : 0] = 0;
	}
	BIO_free(b);
}

void tls_serial_of(const ASN1_INTEGER *ai, char *buf, size_t len)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	snprintf(buf, len, "%s", hex ? hex : "");
	tls_serial_normalize(buf);
	OPENSSL_free(hex);
	BN_free(bn);
}

/* The client certificate's identity (subject CN, serial, issuer) into @id. */
static int identity(SSL *ssl, struct tls_identity *id, const char **why)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);
	X509_NAME *subj;
	int i;

	id->has_cert = false;
	if (!cert)
		return 0;
	id->has_cert = true;
	tls_serial_of(X509_get0_serialNumber(cert), id->serial, sizeof(id->serial));
	name_rfc2253(X509_get_issuer_name(cert), id->issuer, sizeof(id->issuer));
	id->cn[0] = 0;
	subj = X509_get_subject_name(cert);
	i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	if (i >= 0) {
		unsigned char *utf8 = NULL;
		int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)));

		if (n < 0 || n > KMQTT_MAX_USERNAME || memchr(utf8, 0, (size_t)n)) {
			*why = "the certificate's common name is not a usable user name";
			OPENSSL_free(utf8);
			X509_free(cert);
			return -1;
		}
		memcpy(id->cn, utf8, (size_t)n);
		id->cn[n] = 0;
		OPENSSL_free(utf8);
	}
	X509_free(cert);
	return 0;
}

enum tls_step tls_handshake(SSL *ssl, struct tls_identity *id, struct tls_secret *s,
			    char *why, size_t whylen)
{
	const char *w = NULL;
	int fd = SSL_get_fd(ssl);
	int r = SSL_do_handshake(ssl);
	long vr;

	if (r != 1) {
		switch (SSL_get_error(ssl, r)) {
		case SSL_ERROR_WANT_READ:
			return TLS_WANT_READ;
		case SSL_ERROR_WANT_WRITE:
			return TLS_WANT_WRITE;
		case SSL_ERROR_ZERO_RETURN:
		case SSL_ERROR_SYSCALL:
			if (!ERR_peek_error()) {
				snprintf(why, whylen, "connection closed during the handshake");
				ERR_clear_error();
				return TLS_FAILED;
			}
			break;
		default:
			break;
		}
		vr = SSL_get_verify_result(ssl);
		if (vr != X509_V_OK) {
			snprintf(why, whylen, "client certificate: %s",
				 X509_verify_cert_error_string(vr));
			ERR_clear_error();
			return vr == X509_V_ERR_CERT_REVOKED ? TLS_REVOKED : TLS_FAILED;
		}
		ssl_err_string(why, whylen);
		return TLS_FAILED;
	}
	snprintf(id->version, sizeof(id->version), "%s", SSL_get_version(ssl));
	snprintf(id->cipher, sizeof(id->cipher), "%s", SSL_get_cipher_name(ssl));
	if (identity(ssl, id, &w)) {
		snprintf(why, whylen, "%s", w);
		return TLS_FAILED;
	}
	/* Nothing may wait inside OpenSSL: the kernel must see every record from here on. */
	if (SSL_has_pending(ssl)) {
		snprintf(why, whylen, "data buffered in OpenSSL after the handshake");
		return TLS_NOT_OFFLOADED;
	}
	if (!BIO_get_ktls_send(SSL_get_wbio(ssl))) {
		snprintf(why, whylen, "no kernel TLS for sending with %s %s", id->version, id->cipher);
		return TLS_NOT_OFFLOADED;
	}
	if (!BIO_get_ktls_recv(SSL_get_rbio(ssl))) {
		if (SSL_version(ssl) != TLS1_3_VERSION) {
			snprintf(why, whylen, "no kernel TLS for receiving with %s %s", id->version,
				 id->cipher);
			return TLS_NOT_OFFLOADED;
		}
		r = ktls_rx_tls13(fd, ssl, s, &w);
		OPENSSL_cleanse(s, sizeof(*s));
		if (r) {
			snprintf(why, whylen, "%s (%s %s): %s", w, id->version, id->cipher,
				 strerror(errno));
			return TLS_NOT_OFFLOADED;
		}
	}
	OPENSSL_cleanse(s, sizeof(*s));
	return TLS_DONE;
}
