// SPDX-License-Identifier: Apache-2.0
// ca.c: `meshgate ca`: create or show the CA, issue workload certificates
// and bootstrap tokens, print the trust bundle, inspect certificates/tokens.
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/obj.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "ca/spiffe.h"
#include "cli.h"
#include "core/buf.h"
#include "core/clock.h"

enum {
	INSPECT_MAX = 1 << 20,
	TOKEN_OUT_MAX = 8192,
};

// Which options a subcommand takes.
enum {
	OPT_NS = 1 << 0,
	OPT_SA = 1 << 1,
	OPT_TTL = 1 << 2,
	OPT_OUT = 1 << 3,
};

struct args {
	const char *state_dir;
	const char *td;
	const char *ns;
	const char *sa;
	const char *ttl;
	const char *out;
	const char *file;
	unsigned given;
	int64_t now;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: meshgate ca COMMAND [--state-dir DIR] [--trust-domain TD] [ARGS]\n\n"
		"commands:\n"
		"  init                          create the root (or load it) and show it\n"
		"  issue --ns NS --sa SA [--ttl 24h] [--out PREFIX]\n"
		"                                write PREFIX-cert.pem, PREFIX-key.pem,\n"
		"                                PREFIX-chain.pem (PREFIX defaults to NS-SA)\n"
		"  token --ns NS --sa SA [--ttl 1h]  print a bootstrap token\n"
		"  bundle                        print the trust bundle (root-cert.pem)\n"
		"  inspect FILE|-                show certificates or a token\n\n"
		"--state-dir defaults to ./state, --trust-domain to cluster.local.\n"
		"TTLs: plain seconds or a number with s, m, h or d.\n");
}

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// die prints "meshgate ca: <reason>" and returns the error exit status.
static int die(const char *fmt, ...)
{
	va_list ap;

	fputs("meshgate ca: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static void iso8601(int64_t t, char *out, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!gmtime_r(&tt, &tm) || !strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, len, "%lld", (long long)t);
}

static void print_time(const char *label, const ASN1_TIME *t)
{
	char s[64];
	int64_t v;

	if (ca_time_unix(t, &v) < 0) {
		printf("  %s: (unreadable)\n", label);
		return;
	}
	iso8601(v, s, sizeof(s));
	printf("  %s: %s\n", label, s);
}

static void print_name(const char *label, X509_NAME *name)
{
	const uint8_t *p;
	size_t n;
	BIO *bio = BIO_new(BIO_s_mem());

	if (!bio)
		return;
	if (X509_NAME_entry_count(name) == 0)
		printf("  %s: (empty)\n", label);
	else if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0 &&
		 BIO_mem_contents(bio, &p, &n))
		printf("  %s: %.*s\n", label, (int)n, (const char *)p);
	BIO_free(bio);
}

static bool ext_critical(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	return i >= 0 && X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

// print_ia5 prints an IA5String, escaping anything unprintable.
static void print_ia5(const ASN1_STRING *s)
{
	const uint8_t *p = ASN1_STRING_get0_data(s);
	int i, n = ASN1_STRING_length(s);

	for (i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f)
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
}

static void print_ip(const ASN1_STRING *ip)
{
	char s[INET6_ADDRSTRLEN];
	int n = ASN1_STRING_length(ip);

	if ((n == 4 && inet_ntop(AF_INET, ASN1_STRING_get0_data(ip), s, sizeof(s))) ||
	    (n == 16 && inet_ntop(AF_INET6, ASN1_STRING_get0_data(ip), s, sizeof(s))))
		printf("IP:%s", s);
	else
		printf("IP:(%d bytes)", n);
}

static void print_sans(X509 *x, char *spiffe, size_t spiffe_len)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	const GENERAL_NAME *g;
	struct spiffe_id id;
	const char *why;
	int uris = 0;
	size_t i;

	snprintf(spiffe, spiffe_len, "none");
	if (!gens) {
		printf("  SANs: none\n");
		ERR_clear_error();
		return;
	}
	printf("  SANs%s:", ext_critical(x, NID_subject_alt_name) ? " (critical)" : "");
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		putchar(' ');
		switch (g->type) {
		case GEN_URI:
			fputs("URI:", stdout);
			print_ia5(g->d.uniformResourceIdentifier);
			if (++uris == 1 &&
			    spiffe_parse((const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier),
					 (size_t)ASN1_STRING_length(g->d.uniformResourceIdentifier),
					 &id, &why) == 0)
				snprintf(spiffe, spiffe_len, "%s", id.id);
			break;
		case GEN_DNS:
			fputs("DNS:", stdout);
			print_ia5(g->d.dNSName);
			break;
		case GEN_EMAIL:
			fputs("email:", stdout);
			print_ia5(g->d.rfc822Name);
			break;
		case GEN_IPADD:
			print_ip(g->d.iPAddress);
			break;
		default:
			printf("(type %d)", g->type);
		}
	}
	putchar('\n');
	// An X.509-SVID has exactly one URI SAN.
	if (uris != 1)
		snprintf(spiffe, spiffe_len, "none");
	GENERAL_NAMES_free(gens);
}

static void print_usage_ext(X509 *x)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} ku_names[] = {
		{ KU_DIGITAL_SIGNATURE, "digitalSignature" },
		{ KU_NON_REPUDIATION, "nonRepudiation" },
		{ KU_KEY_ENCIPHERMENT, "keyEncipherment" },
		{ KU_DATA_ENCIPHERMENT, "dataEncipherment" },
		{ KU_KEY_AGREEMENT, "keyAgreement" },
		{ KU_KEY_CERT_SIGN, "keyCertSign" },
		{ KU_CRL_SIGN, "cRLSign" },
		{ KU_ENCIPHER_ONLY, "encipherOnly" },
		{ KU_DECIPHER_ONLY, "decipherOnly" },
	};
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	STACK_OF(ASN1_OBJECT) *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	uint32_t ku = X509_get_key_usage(x);
	const char *sep = "";
	char oid[80];
	size_t i;

	if (!bc)
		printf("  CA: no basicConstraints\n");
	else if (bc->ca && bc->pathlen)
		printf("  CA: true, pathlen %ld%s\n", ASN1_INTEGER_get(bc->pathlen),
		       ext_critical(x, NID_basic_constraints) ? " (critical)" : "");
	else
		printf("  CA: %s%s\n", bc->ca ? "true" : "false",
		       ext_critical(x, NID_basic_constraints) ? " (critical)" : "");
	if (X509_get_ext_by_NID(x, NID_key_usage, -1) < 0) {
		printf("  key usage: none\n");
	} else {
		printf("  key usage%s:", ext_critical(x, NID_key_usage) ? " (critical)" : "");
		for (i = 0; i < sizeof(ku_names) / sizeof(ku_names[0]); i++) {
			if (ku & ku_names[i].bit) {
				printf("%s %s", sep, ku_names[i].name);
				sep = ",";
			}
		}
		putchar('\n');
	}
	if (!eku) {
		printf("  extended key usage: none\n");
	} else {
		printf("  extended key usage:");
		sep = "";
		for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
			const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
			int nid = OBJ_obj2nid(o);

			// serverAuth, clientAuth: the names RFC 5280 uses
			if (nid == NID_undef || !OBJ_nid2sn(nid))
				OBJ_obj2txt(oid, sizeof(oid), o, 1);
			else
				snprintf(oid, sizeof(oid), "%s", OBJ_nid2sn(nid));
			printf("%s %s", sep, oid);
			sep = ",";
		}
		putchar('\n');
	}
	BASIC_CONSTRAINTS_free(bc);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	ERR_clear_error();
}

static void print_key(X509 *x)
{
	EVP_PKEY *k = X509_get_pubkey(x);
	const EC_GROUP *g;
	int nid;

	if (!k) {
		printf("  key: unsupported\n");
		ERR_clear_error();
		return;
	}
	switch (EVP_PKEY_id(k)) {
	case EVP_PKEY_RSA:
		printf("  key: RSA %u\n", RSA_bits(EVP_PKEY_get0_RSA(k)));
		break;
	case EVP_PKEY_EC:
		g = EC_KEY_get0_group(EVP_PKEY_get0_EC_KEY(k));
		nid = g ? EC_GROUP_get_curve_name(g) : NID_undef;
		printf("  key: EC %s\n", nid != NID_undef && OBJ_nid2sn(nid) ? OBJ_nid2sn(nid) : "?");
		break;
	default:
		printf("  key: type %d\n", EVP_PKEY_id(k));
	}
	EVP_PKEY_free(k);
}

static void print_cert(X509 *x, int n)
{
	const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	const char *sig = OBJ_nid2ln(X509_get_signature_nid(x));
	char spiffe[SPIFFE_MAX_ID + 1];

	printf("certificate %d:\n", n);
	print_name("subject", X509_get_subject_name(x));
	print_name("issuer", X509_get_issuer_name(x));
	printf("  serial: %s\n", hex ? hex : "(unreadable)");
	print_time("not before", X509_get0_notBefore(x));
	print_time("not after", X509_get0_notAfter(x));
	print_sans(x, spiffe, sizeof(spiffe));
	print_usage_ext(x);
	print_key(x);
	printf("  signature: %s\n", sig ? sig : "unknown");
	printf("  SPIFFE ID: %s\n", spiffe);
	OPENSSL_free(hex);
	BN_free(bn);
	ERR_clear_error();
}

static int read_all(const char *path, struct buf *out)
{
	char chunk[8192];
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t n;
	int rc = 0;

	if (!f)
		return -errno;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (out->len + n > INSPECT_MAX) {
			rc = -EFBIG;
			break;
		}
		if ((rc = buf_append(out, chunk, n)) < 0)
			break;
	}
	if (rc == 0 && ferror(f))
		rc = -EIO;
	if (f != stdin)
		fclose(f);
	return rc;
}

// print_json_segment decodes one base64url token segment and prints it,
// escaping anything unprintable.
static int print_json_segment(const char *label, const char *p, size_t n)
{
	uint8_t *dec = malloc(n + 1);
	int len, i;

	if (!dec)
		return -ENOMEM;
	if ((len = ca_b64url_decode(p, n, dec, n + 1)) < 0) {
		free(dec);
		return len;
	}
	printf("%s: ", label);
	for (i = 0; i < len; i++) {
		if (dec[i] >= 0x20 && dec[i] != 0x7f)
			putchar(dec[i]);
		else
			printf("\\x%02x", dec[i]);
	}
	putchar('\n');
	free(dec);
	return 0;
}

static int inspect_token(const struct args *a, const char *tok, size_t len)
{
	const char *d1 = memchr(tok, '.', len), *d2;
	char err[512], ns[254], sa[254];
	struct ca ca;
	int rc;

	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
	if (!d2)
		return die("%s: neither PEM certificates nor a JWT", a->file);
	if (print_json_segment("header", tok, (size_t)(d1 - tok)) < 0 ||
	    print_json_segment("payload", d1 + 1, (size_t)(d2 - d1 - 1)) < 0)
		return die("%s: token is not base64url", a->file);
	rc = ca_open(&ca, a->state_dir, a->td, false, a->now, err, sizeof(err));
	if (rc == -ENOENT) {
		printf("verify: no CA in %s/ca, not checked\n", a->state_dir);
		return 0;
	}
	if (rc < 0) {
		printf("verify: CA unusable (%s), not checked\n", err);
		return 0;
	}
	if (ca_token_verify(&ca, tok, len, a->now, ns, sa, err, sizeof(err)) == 0)
		printf("verify: ok (spiffe://%s/ns/%s/sa/%s)\n", ca.trust_domain, ns, sa);
	else
		printf("verify: FAILED (%s)\n", err);
	ca_close(&ca);
	return 0;
}

static int cmd_inspect(const struct args *a)
{
	struct buf b;
	X509 *x;
	BIO *bio;
	size_t n;
	int rc, i = 0;

	buf_init(&b);
	if ((rc = read_all(a->file, &b)) < 0) {
		rc = die("%s: %s", a->file, strerror(-rc));
		goto out;
	}
	if (b.len && memmem(b.data, b.len, "-----BEGIN CERTIFICATE-----", 27)) {
		if (!(bio = BIO_new_mem_buf(b.data, b.len))) {
			rc = die("out of memory");
			goto out;
		}
		while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
			if (i)
				putchar('\n');
			print_cert(x, ++i);
			X509_free(x);
		}
		BIO_free(bio);
		ERR_clear_error();
		rc = i ? 0 : die("%s: no readable certificate", a->file);
		goto out;
	}
	// A token: trim surrounding whitespace (files end with "\n").
	n = b.len;
	while (n && (b.data[n - 1] == '\n' || b.data[n - 1] == '\r' || b.data[n - 1] == ' ' ||
		     b.data[n - 1] == '\t'))
		n--;
	rc = n ? inspect_token(a, b.data, n) : die("%s: empty", a->file);
out:
	buf_cleanup(&b);
	return rc;
}

static int open_ca(const struct args *a, struct ca *ca, bool create)
{
	char err[1024];

	if (ca_open(ca, a->state_dir, a->td, create, a->now, err, sizeof(err)) < 0)
		return die("%s", err);
	return 0;
}

static int cmd_init(const struct args *a)
{
	char err[1024], path[4200], hex[65], t[64];
	uint8_t md[32];
	unsigned mdlen;
	int64_t end;
	struct ca ca;
	bool existed;
	int rc;

	snprintf(path, sizeof(path), "%s/ca/root-cert.pem", a->state_dir);
	existed = access(path, F_OK) == 0;
	if ((rc = ca_open(&ca, a->state_dir, a->td, true, a->now, err, sizeof(err))) < 0)
		return die("%s", err);
	printf("root: %s (%s)\n", path, existed ? "loaded" : "created");
	print_name("subject", X509_get_subject_name(ca.root));
	if (ca.plugged) {
		printf("  mode: plug-in (signing with %s/ca-cert.pem)\n", ca.dir);
		print_name("signing subject", X509_get_subject_name(ca.cert));
	} else {
		printf("  mode: self-signed root\n");
	}
	if (ca_time_unix(X509_get0_notAfter(ca.root), &end) == 0) {
		iso8601(end, t, sizeof(t));
		printf("  not after: %s\n", t);
	}
	if (X509_digest(ca.root, EVP_sha256(), md, &mdlen)) {
		for (unsigned i = 0; i < mdlen && i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		printf("  sha256: %s\n", hex);
	}
	printf("  trust domain: %s\n", ca.trust_domain);
	ca_close(&ca);
	return 0;
}

static int write_pem(const char *path, const struct buf *b, unsigned mode)
{
	int rc = ca_write_file(path, b->data, b->len, mode);

	if (rc < 0)
		return die("writing %s: %s", path, strerror(-rc));
	return 0;
}

// pem_cert appends x as PEM.
static int pem_cert(X509 *x, struct buf *out)
{
	const uint8_t *p;
	size_t n;
	BIO *bio = BIO_new(BIO_s_mem());
	int rc = -ENOMEM;

	if (bio && PEM_write_bio_X509(bio, x) && BIO_mem_contents(bio, &p, &n))
		rc = buf_append(out, p, n);
	BIO_free(bio);
	return rc;
}

// pem_key appends key as unencrypted PKCS#8 PEM, wiping the BIO's copy.
static int pem_key(EVP_PKEY *key, struct buf *out)
{
	const uint8_t *p;
	size_t n;
	BIO *bio = BIO_new(BIO_s_mem());
	int rc = -ENOMEM;

	if (bio && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) &&
	    BIO_mem_contents(bio, &p, &n)) {
		rc = buf_append(out, p, n);
		OPENSSL_cleanse((void *)p, n);
	}
	BIO_free(bio);
	return rc;
}

static int cmd_issue(const struct args *a, int64_t ttl)
{
	char err[1024], prefix[4096], path[4200], id[SPIFFE_MAX_ID + 1], t[64];
	struct buf cert, key, chain;
	EVP_PKEY *pkey = NULL;
	X509 *leaf = NULL;
	int64_t end;
	struct ca ca;
	int rc;

	if (spiffe_istio_id(id, sizeof(id), a->td, a->ns, a->sa) < 0)
		return die("invalid namespace or service account");
	if (a->out)
		snprintf(prefix, sizeof(prefix), "%s", a->out);
	else
		snprintf(prefix, sizeof(prefix), "%s-%s", a->ns, a->sa);
	if ((rc = open_ca(a, &ca, true)))
		return rc;
	buf_init(&cert);
	buf_init(&key);
	buf_init(&chain);
	if (ca_issue_keypair(&ca, a->ns, a->sa, ttl, a->now, &leaf, &pkey, err, sizeof(err)) < 0) {
		rc = die("%s", err);
		goto out;
	}
	if (pem_cert(leaf, &cert) < 0 || pem_key(pkey, &key) < 0 ||
	    ca_chain_pem(&ca, leaf, &chain) < 0) {
		rc = die("encoding the certificate or key failed");
		goto out;
	}
	snprintf(path, sizeof(path), "%s-key.pem", prefix);
	if ((rc = write_pem(path, &key, 0600)))
		goto out;
	snprintf(path, sizeof(path), "%s-cert.pem", prefix);
	if ((rc = write_pem(path, &cert, 0644)))
		goto out;
	snprintf(path, sizeof(path), "%s-chain.pem", prefix);
	if ((rc = write_pem(path, &chain, 0644)))
		goto out;
	printf("%s\n", id);
	if (ca_time_unix(X509_get0_notAfter(leaf), &end) == 0) {
		iso8601(end, t, sizeof(t));
		printf("not after: %s\n", t);
	}
	printf("wrote %s-cert.pem %s-key.pem %s-chain.pem\n", prefix, prefix, prefix);
	rc = 0;
out:
	ERR_clear_error();
	OPENSSL_cleanse(key.data, key.cap);
	buf_cleanup(&key);
	buf_cleanup(&cert);
	buf_cleanup(&chain);
	X509_free(leaf);
	EVP_PKEY_free(pkey);
	ca_close(&ca);
	return rc;
}

static int cmd_token(const struct args *a, int64_t ttl)
{
	char tok[TOKEN_OUT_MAX], id[SPIFFE_MAX_ID + 1];
	struct ca ca;
	int rc;

	if (spiffe_istio_id(id, sizeof(id), a->td, a->ns, a->sa) < 0)
		return die("invalid namespace or service account");
	if (ttl <= 0 || ttl > CA_TOKEN_MAX_TTL_S)
		return die("token TTL must be between 1s and %dh", CA_TOKEN_MAX_TTL_S / 3600);
	if ((rc = open_ca(a, &ca, true)))
		return rc;
	rc = ca_token_make(&ca, a->ns, a->sa, ttl, a->now, tok, sizeof(tok));
	ca_close(&ca);
	if (rc < 0)
		return die("making the token failed (%s)", strerror(-rc));
	printf("%s\n", tok);
	return 0;
}

static int cmd_bundle(const struct args *a)
{
	struct ca ca;
	int rc;

	if ((rc = open_ca(a, &ca, false)))
		return rc;
	fwrite(buf_head(&ca.bundle_pem), 1, buf_avail(&ca.bundle_pem), stdout);
	ca_close(&ca);
	return 0;
}

int cli_ca(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 'd' },
		{ "trust-domain", required_argument, NULL, 't' },
		{ "ns", required_argument, NULL, 'n' },
		{ "sa", required_argument, NULL, 'a' },
		{ "ttl", required_argument, NULL, 'l' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct args a = { .state_dir = "./state", .td = "cluster.local" };
	const char *cmd;
	unsigned allowed;
	int64_t ttl = 0;
	int c, rc, nargs;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "init") || !strcmp(cmd, "bundle") || !strcmp(cmd, "inspect")) {
		allowed = 0;
	} else if (!strcmp(cmd, "issue")) {
		allowed = OPT_NS | OPT_SA | OPT_TTL | OPT_OUT;
	} else if (!strcmp(cmd, "token")) {
		allowed = OPT_NS | OPT_SA | OPT_TTL;
	} else {
		fprintf(stderr, "meshgate ca: unknown command %s\n", cmd);
		usage(stderr);
		return 2;
	}
	// Parse from the subcommand on: argv[1] plays argv[0].
	optind = 0;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			a.state_dir = optarg;
			break;
		case 't':
			a.td = optarg;
			break;
		case 'n':
			a.ns = optarg;
			a.given |= OPT_NS;
			break;
		case 'a':
			a.sa = optarg;
			a.given |= OPT_SA;
			break;
		case 'l':
			a.ttl = optarg;
			a.given |= OPT_TTL;
			break;
		case 'o':
			a.out = optarg;
			a.given |= OPT_OUT;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (a.given & ~allowed) {
		fprintf(stderr, "meshgate ca %s: option not accepted by this command\n", cmd);
		usage(stderr);
		return 2;
	}
	nargs = argc - 1 - optind;
	if (!strcmp(cmd, "inspect")) {
		if (nargs != 1) {
			fprintf(stderr, "meshgate ca inspect: want one FILE (or -)\n");
			usage(stderr);
			return 2;
		}
		a.file = argv[1 + optind];
	} else if (nargs != 0) {
		fprintf(stderr, "meshgate ca %s: unexpected argument %s\n", cmd, argv[1 + optind]);
		usage(stderr);
		return 2;
	}
	if ((allowed & OPT_NS) && (!a.ns || !a.sa)) {
		fprintf(stderr, "meshgate ca %s: --ns and --sa are required\n", cmd);
		usage(stderr);
		return 2;
	}
	if (!*a.state_dir) {
		fprintf(stderr, "meshgate ca: empty --state-dir\n");
		return 2;
	}
	if (a.ttl) {
		if ((rc = ca_parse_ttl(a.ttl, &ttl)) < 0) {
			fprintf(stderr, "meshgate ca %s: bad --ttl %s (want e.g. 3600, 90m, 24h, 30d)\n",
				cmd, a.ttl);
			return 2;
		}
	} else {
		ttl = !strcmp(cmd, "token") ? 3600 : CA_DEFAULT_TTL_S;
	}
	if (!spiffe_td_valid(a.td, strlen(a.td)))
		return die("invalid trust domain \"%s\"", a.td);
	clock_init();
	a.now = clock_wall_s();

	if (!strcmp(cmd, "init"))
		return cmd_init(&a);
	if (!strcmp(cmd, "issue"))
		return cmd_issue(&a, ttl);
	if (!strcmp(cmd, "token"))
		return cmd_token(&a, ttl);
	if (!strcmp(cmd, "bundle"))
		return cmd_bundle(&a);
	return cmd_inspect(&a);
}
