// Small C helpers over the system libcrypto (OpenSSL 3). Swift cannot import function-like macros,
// STACK_OF accessors or unions conveniently; each helper here exists only for that reason.
#ifndef CNSGW_COPENSSL_SHIM_H
#define CNSGW_COPENSSL_SHIM_H

#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>
#include <string.h>
#include <time.h>

static const unsigned long CNSGW_MBSTRING_UTF8 = MBSTRING_UTF8;
static const unsigned long CNSGW_XN_FLAG_RFC2253_UTF8 = (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);

static inline void cnsgw_free(void *p) { OPENSSL_free(p); }

// MARK: STACK_OF(X509)
static inline STACK_OF(X509) *cnsgw_sk_X509_new(void) { return sk_X509_new_null(); }
static inline int cnsgw_sk_X509_push(STACK_OF(X509) *sk, X509 *x) { return sk_X509_push(sk, x); }
static inline int cnsgw_sk_X509_num(const STACK_OF(X509) *sk) { return sk_X509_num(sk); }
static inline X509 *cnsgw_sk_X509_value(const STACK_OF(X509) *sk, int i) { return sk_X509_value(sk, i); }
/// Frees the stack only; the certificates keep their owners.
static inline void cnsgw_sk_X509_free(STACK_OF(X509) *sk) { sk_X509_free(sk); }
/// Frees the stack and drops one reference of each certificate (for X509_STORE_CTX_get1_chain results).
static inline void cnsgw_sk_X509_pop_free(STACK_OF(X509) *sk) { sk_X509_pop_free(sk, X509_free); }

// MARK: memory BIO
static inline long cnsgw_BIO_mem_data(BIO *b, char **pp) { return BIO_get_mem_data(b, pp); }

// MARK: extension readers. Each writes '\n'-separated strings into buf and returns the bytes written
// (or the bytes needed when buf is too small, so the caller can retry with a larger buffer). -1: extension absent.
static inline int cnsgw__append(char *buf, int cap, int used, const char *s, int n) {
    if (used > 0) { if (used < cap) buf[used] = '\n'; used += 1; }
    if (used + n <= cap) memcpy(buf + used, s, (size_t)n);
    return used + n;
}

static inline int cnsgw_policy_oids(X509 *x, char *buf, int cap) {
    int crit = 0;
    CERTIFICATEPOLICIES *pols = X509_get_ext_d2i(x, NID_certificate_policies, &crit, NULL);
    if (pols == NULL) return -1;
    int used = 0;
    char oid[128];
    for (int i = 0; i < sk_POLICYINFO_num(pols); i++) {
        POLICYINFO *pi = sk_POLICYINFO_value(pols, i);
        int n = OBJ_obj2txt(oid, sizeof(oid), pi->policyid, 1);
        if (n > 0) used = cnsgw__append(buf, cap, used, oid, n);
    }
    CERTIFICATEPOLICIES_free(pols);
    return used;
}

static inline int cnsgw_eku_oids(X509 *x, char *buf, int cap) {
    int crit = 0;
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
    if (eku == NULL) return -1;
    int used = 0;
    char oid[128];
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
        int n = OBJ_obj2txt(oid, sizeof(oid), sk_ASN1_OBJECT_value(eku, i), 1);
        if (n > 0) used = cnsgw__append(buf, cap, used, oid, n);
    }
    EXTENDED_KEY_USAGE_free(eku);
    return used;
}

static inline int cnsgw__append_uri_names(GENERAL_NAMES *names, char *buf, int cap, int used) {
    for (int j = 0; j < sk_GENERAL_NAME_num(names); j++) {
        GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, j);
        if (gn->type != GEN_URI) continue;
        ASN1_IA5STRING *u = gn->d.uniformResourceIdentifier;
        used = cnsgw__append(buf, cap, used, (const char *)ASN1_STRING_get0_data(u), ASN1_STRING_length(u));
    }
    return used;
}

static inline int cnsgw_crl_distribution_uris(X509 *x, char *buf, int cap) {
    int crit = 0;
    CRL_DIST_POINTS *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, &crit, NULL);
    if (dps == NULL) return -1;
    int used = 0;
    for (int i = 0; i < sk_DIST_POINT_num(dps); i++) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
        if (dp->distpoint == NULL || dp->distpoint->type != 0) continue;
        used = cnsgw__append_uri_names(dp->distpoint->name.fullname, buf, cap, used);
    }
    CRL_DIST_POINTS_free(dps);
    return used;
}

static inline int cnsgw_ocsp_uris(X509 *x, char *buf, int cap) {
    STACK_OF(OPENSSL_STRING) *uris = X509_get1_ocsp(x);
    if (uris == NULL) return -1;
    int used = 0;
    for (int i = 0; i < sk_OPENSSL_STRING_num(uris); i++) {
        const char *s = sk_OPENSSL_STRING_value(uris, i);
        used = cnsgw__append(buf, cap, used, s, (int)strlen(s));
    }
    X509_email_free(uris);
    return used;
}

/// Subject (or issuer) attributes as "oid=value" lines, UTF-8, in DN order.
static inline int cnsgw_name_entries(const X509_NAME *name, char *buf, int cap) {
    int used = 0;
    char oid[128];
    for (int i = 0; i < X509_NAME_entry_count(name); i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        int n = OBJ_obj2txt(oid, sizeof(oid), X509_NAME_ENTRY_get_object(e), 1);
        unsigned char *utf8 = NULL;
        int m = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
        if (n <= 0 || m < 0) { if (utf8) OPENSSL_free(utf8); continue; }
        char line[1024];
        int len = snprintf(line, sizeof(line), "%s=", oid);
        int copy = m < (int)sizeof(line) - len - 1 ? m : (int)sizeof(line) - len - 1;
        memcpy(line + len, utf8, (size_t)copy);
        len += copy;
        OPENSSL_free(utf8);
        used = cnsgw__append(buf, cap, used, line, len);
    }
    return used;
}

/// Seconds since 1970 of an ASN1_TIME (UTCTime or GeneralizedTime); 0 on failure with *ok = 0.
static inline long long cnsgw_asn1_time_to_unix(const ASN1_TIME *t, int *ok) {
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) { *ok = 0; return 0; }
    *ok = 1;
    return (long long)timegm(&tm);
}

/// Criticality of the extension with `nid`: -1 absent, 0 non-critical, 1 critical.
static inline int cnsgw_extension_criticality(X509 *x, int nid) {
    int i = X509_get_ext_by_NID(x, nid, -1);
    if (i < 0) return -1;
    return X509_EXTENSION_get_critical(X509_get_ext(x, i)) ? 1 : 0;
}

/// 1 when the serial number is encoded as a negative INTEGER.
static inline int cnsgw_serial_is_negative(X509 *x) {
    return ASN1_STRING_type(X509_get0_serialNumber(x)) == V_ASN1_NEG_INTEGER;
}

// MARK: key generation for the test PKI
static inline EVP_PKEY *cnsgw_generate_rsa(int bits) {
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
    if (ctx == NULL) return NULL;
    if (EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) <= 0 ||
        EVP_PKEY_keygen(ctx, &pkey) <= 0) { pkey = NULL; }
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static inline EVP_PKEY *cnsgw_generate_p256(void) {
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
    if (ctx == NULL) return NULL;
    if (EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) <= 0 ||
        EVP_PKEY_keygen(ctx, &pkey) <= 0) { pkey = NULL; }
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

#include <openssl/conf.h>
/// An empty configuration database: some extension parsers (certificatePolicies) insist on having one.
static inline CONF *cnsgw_X509V3_set_empty_conf(X509V3_CTX *ctx) {
    CONF *conf = NCONF_new(NULL);
    if (conf != NULL) X509V3_set_nconf(ctx, conf);
    return conf;
}

#endif
