// SPDX-License-Identifier: Apache-2.0
// serving.c: server certificates for the appliance's own endpoints.
#include "serving.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/nid.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
	if (!ext)
		return -EINVAL;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -ENOMEM;
}

int ca_issue_serving(struct ca *ca, const char *const *dns, int num_dns,
		     const char *const *ips, int num_ips, int64_t ttl_s, int64_t now,
		     X509 **out_cert, EVP_PKEY **out_key, char *err, size_t err_len)
{
	X509 *x = NULL;
	EVP_PKEY *pkey = NULL;
	EC_KEY *ec = NULL;
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial = NULL;
	char san[4096];
	size_t off = 0;
	uint8_t rnd[16];
	int64_t not_after, signer_end = 0;
	int rc = -EINVAL;

	if (num_dns + num_ips < 1 || num_dns + num_ips > SERVING_MAX_NAMES) {
		snprintf(err, err_len, "a serving certificate needs 1..%d names", SERVING_MAX_NAMES);
		return -EINVAL;
	}
	san[0] = '\0';
	for (int i = 0; i < num_dns + num_ips; i++) {
		const char *v = i < num_dns ? dns[i] : ips[i - num_dns];
		int n = snprintf(san + off, sizeof(san) - off, "%s%s:%s", off ? "," : "",
				 i < num_dns ? "DNS" : "IP", v);

		if (n < 0 || (size_t)n >= sizeof(san) - off || strchr(v, ',')) {
			snprintf(err, err_len, "serving certificate names too long or invalid");
			return -EINVAL;
		}
		off += (size_t)n;
	}
	if (!(ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1)) || !EC_KEY_generate_key(ec) ||
	    !(pkey = EVP_PKEY_new()) || !EVP_PKEY_assign_EC_KEY(pkey, ec)) {
		EC_KEY_free(ec);
		snprintf(err, err_len, "key generation failed");
		goto out;
	}
	if (!(x = X509_new()) || !X509_set_version(x, X509_VERSION_3))
		goto ssl_fail;
	RAND_bytes(rnd, sizeof(rnd));
	rnd[0] = (rnd[0] & 0x7f) | 0x01;	// positive, 128 bits, never zero
	if (!(bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) || !(serial = BN_to_ASN1_INTEGER(bn, NULL)) ||
	    !X509_set_serialNumber(x, serial))
		goto ssl_fail;
	if (!X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) ||
	    !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "O", MBSTRING_UTF8,
					(const uint8_t *)ca->trust_domain, -1, -1, 0))
		goto ssl_fail;
	ca_time_unix(X509_get0_notAfter(ca->cert), &signer_end);
	not_after = now + (ttl_s > 0 ? ttl_s : CA_DEFAULT_TTL_S);
	if (signer_end && not_after > signer_end)
		not_after = signer_end;
	if (!ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(now - CA_BACKDATE_S)) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after) ||
	    !X509_set_pubkey(x, pkey))
		goto ssl_fail;
	if (add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, ca->cert, NID_key_usage, "critical,digitalSignature,keyEncipherment") < 0 ||
	    add_ext(x, ca->cert, NID_ext_key_usage, "serverAuth") < 0 ||
	    add_ext(x, ca->cert, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, ca->cert, NID_authority_key_identifier, "keyid") < 0 ||
	    add_ext(x, ca->cert, NID_subject_alt_name, san) < 0)
		goto ssl_fail;
	if (!X509_sign(x, ca->key, EVP_sha256()))
		goto ssl_fail;
	*out_cert = x;
	*out_key = pkey;
	x = NULL;
	pkey = NULL;
	rc = 0;
	goto out;
ssl_fail:
	{
		char b[256];

		ERR_error_string_n(ERR_get_error(), b, sizeof(b));
		snprintf(err, err_len, "signing a serving certificate failed: %s", b);
	}
out:
	ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(pkey);
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	return rc;
}
