#ifndef CNSGW_CXMLSEC_SHIM_H
#define CNSGW_CXMLSEC_SHIM_H
// SwiftPM drops pkg-config's -D flags, so the defines Debian's libxmlsec1 was built with are repeated here, before
// any xmlsec header (STACK.md §1). XMLSEC_NO_SIZE_T matters for struct layouts.
#ifndef __XMLSEC_FUNCTION__
#define __XMLSEC_FUNCTION__ __func__
#endif
#ifndef XMLSEC_NO_SIZE_T
#define XMLSEC_NO_SIZE_T 1
#endif
#ifndef XMLSEC_OPENSSL3_ENGINES
#define XMLSEC_OPENSSL3_ENGINES 1
#endif
#ifndef XMLSEC_NO_GOST
#define XMLSEC_NO_GOST 1
#endif
#ifndef XMLSEC_NO_GOST2012
#define XMLSEC_NO_GOST2012 1
#endif
#ifndef XMLSEC_NO_CRYPTO_DYNAMIC_LOADING
#define XMLSEC_NO_CRYPTO_DYNAMIC_LOADING 1
#endif
#ifndef XMLSEC_CRYPTO_OPENSSL
#define XMLSEC_CRYPTO_OPENSSL 1
#endif

// Debian's libxml2 is built with ICU, so <libxml/encoding.h> includes the system's <unicode/ucnv.h>, whose enums
// clash with the ICU headers Foundation ships (_FoundationICU). libxml2's headers only need two ICU types, as
// pointers and a 16-bit array in a struct this project never touches, so the system header is kept out and the two
// types are declared with their ICU layout.
#ifndef UCNV_H
#define UCNV_H
#include <stdint.h>
typedef struct UConverter UConverter;
typedef uint16_t UChar;
#endif

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmlenc.h>
#include <xmlsec/errors.h>
#include <xmlsec/crypto.h>
#include <xmlsec/openssl/app.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/openssl/evp.h>
#include <openssl/evp.h>

// Errors are reported by return values; libxmlsec1 and libxml2 would otherwise print to stderr.
static void cnsgw_xmlsec_quiet(const char *file, int line, const char *func, const char *errorObject, const char *errorSubject,
                               int reason, const char *msg) {
    (void)file; (void)line; (void)func; (void)errorObject; (void)errorSubject; (void)reason; (void)msg;
}
static void cnsgw_xml_quiet(void *ctx, const char *msg, ...) { (void)ctx; (void)msg; }

/// Initialises libxml2, libxmlsec1 and its OpenSSL backend once per process. Returns 0 on success.
static inline int cnsgw_xmlsec_initialize(void) {
    xmlInitParser();
    xmlSetGenericErrorFunc(NULL, cnsgw_xml_quiet);
    if (xmlSecInit() < 0) return -1;
    if (xmlSecCheckVersion() != 1) return -2;
    if (sizeof(xmlSecSize) != 4) return -3;
    if (xmlSecOpenSSLAppInit(NULL) < 0) return -4;
    if (xmlSecOpenSSLInit() < 0) return -5;
    xmlSecErrorsSetCallback(cnsgw_xmlsec_quiet);
    return 0;
}

static inline void cnsgw_xml_free(void *p) { xmlFree(p); }
static inline void cnsgw_xml_silence_thread(void) { xmlSetGenericErrorFunc(NULL, cnsgw_xml_quiet); }

// Transform ids are macros, which Swift does not import.
static inline xmlSecTransformId cnsgw_exc_c14n(void) { return xmlSecTransformExclC14NGetKlass(); }
static inline xmlSecTransformId cnsgw_exc_c14n_comments(void) { return xmlSecTransformExclC14NWithCommentsGetKlass(); }
static inline xmlSecTransformId cnsgw_incl_c14n(void) { return xmlSecTransformInclC14NGetKlass(); }
static inline xmlSecTransformId cnsgw_incl_c14n_comments(void) { return xmlSecTransformInclC14NWithCommentsGetKlass(); }
static inline xmlSecTransformId cnsgw_incl_c14n11(void) { return xmlSecTransformInclC14N11GetKlass(); }
static inline xmlSecTransformId cnsgw_enveloped(void) { return xmlSecTransformEnvelopedGetKlass(); }
static inline xmlSecTransformId cnsgw_sha1(void) { return xmlSecOpenSSLTransformSha1GetKlass(); }
static inline xmlSecTransformId cnsgw_sha256(void) { return xmlSecOpenSSLTransformSha256GetKlass(); }
static inline xmlSecTransformId cnsgw_sha384(void) { return xmlSecOpenSSLTransformSha384GetKlass(); }
static inline xmlSecTransformId cnsgw_sha512(void) { return xmlSecOpenSSLTransformSha512GetKlass(); }
static inline xmlSecTransformId cnsgw_rsa_sha1(void) { return xmlSecOpenSSLTransformRsaSha1GetKlass(); }
static inline xmlSecTransformId cnsgw_rsa_sha256(void) { return xmlSecOpenSSLTransformRsaSha256GetKlass(); }
static inline xmlSecTransformId cnsgw_rsa_sha384(void) { return xmlSecOpenSSLTransformRsaSha384GetKlass(); }
static inline xmlSecTransformId cnsgw_rsa_sha512(void) { return xmlSecOpenSSLTransformRsaSha512GetKlass(); }
static inline xmlSecTransformId cnsgw_ecdsa_sha256(void) { return xmlSecOpenSSLTransformEcdsaSha256GetKlass(); }
static inline xmlSecTransformId cnsgw_ecdsa_sha384(void) { return xmlSecOpenSSLTransformEcdsaSha384GetKlass(); }
static inline xmlSecTransformId cnsgw_ecdsa_sha512(void) { return xmlSecOpenSSLTransformEcdsaSha512GetKlass(); }

/// Number of <Reference/>s in the verified SignedInfo, and the URI of one of them ("" for URI="" or none).
static inline xmlSecSize cnsgw_dsig_reference_count(xmlSecDSigCtxPtr ctx) { return xmlSecPtrListGetSize(&ctx->signedInfoReferences); }
static inline const char *cnsgw_dsig_reference_uri(xmlSecDSigCtxPtr ctx, xmlSecSize i) {
    xmlSecDSigReferenceCtxPtr ref = (xmlSecDSigReferenceCtxPtr)xmlSecPtrListGetItem(&ctx->signedInfoReferences, i);
    if (ref == NULL) return NULL;
    return ref->uri == NULL ? "" : (const char *)ref->uri;
}
static inline int cnsgw_dsig_reference_succeeded(xmlSecDSigCtxPtr ctx, xmlSecSize i) {
    xmlSecDSigReferenceCtxPtr ref = (xmlSecDSigReferenceCtxPtr)xmlSecPtrListGetItem(&ctx->signedInfoReferences, i);
    return ref != NULL && ref->status == xmlSecDSigStatusSucceeded;
}
static inline xmlSecKeyDataId cnsgw_key_data_x509(void) { return xmlSecOpenSSLKeyDataX509GetKlass(); }
/// Writes the document (UTF-8, with the XML declaration). The caller frees *out with cnsgw_xml_free.
static inline void cnsgw_xml_dump(xmlDocPtr doc, xmlChar **out, int *size) { xmlDocDumpMemoryEnc(doc, out, size, "UTF-8"); }

/// Signs with a shared key without handing it to the context: the context would free it.
static inline int cnsgw_dsig_sign_with_shared_key(xmlSecDSigCtxPtr ctx, xmlSecKeyPtr key, xmlNodePtr signature) {
    ctx->signKey = key;
    int result = xmlSecDSigCtxSign(ctx, signature);
    ctx->signKey = NULL;
    return result;
}

/// Replaces `node` with <saml:EncryptedAssertion><xenc:EncryptedData/> (AES-256-GCM content, a fresh session key
/// sent with RSA-OAEP to the public key of the DER certificate). Returns 0 on success.
static inline int cnsgw_encrypt_assertion(xmlDocPtr doc, xmlNodePtr node, const unsigned char *certDer, unsigned int certLen) {
    int ret = -1;
    xmlSecKeysMngrPtr mngr = NULL;
    xmlSecEncCtxPtr ctx = NULL;
    xmlNodePtr parent = node->parent;
    xmlNodePtr encData = xmlSecTmplEncDataCreate(doc, xmlSecOpenSSLTransformAes256GcmGetKlass(), NULL, xmlSecTypeEncElement, NULL, NULL);
    if (encData == NULL || xmlSecTmplEncDataEnsureCipherValue(encData) == NULL) goto done;
    xmlNodePtr keyInfo = xmlSecTmplEncDataEnsureKeyInfo(encData, NULL);
    if (keyInfo == NULL) goto done;
    xmlNodePtr encKey = xmlSecTmplKeyInfoAddEncryptedKey(keyInfo, xmlSecOpenSSLTransformRsaOaepGetKlass(), NULL, NULL, NULL);
    if (encKey == NULL || xmlSecTmplEncDataEnsureCipherValue(encKey) == NULL) goto done;
    mngr = xmlSecKeysMngrCreate();
    if (mngr == NULL || xmlSecOpenSSLAppDefaultKeysMngrInit(mngr) < 0) goto done;
    xmlSecKeyPtr key = xmlSecOpenSSLAppKeyLoadMemory(certDer, certLen, xmlSecKeyDataFormatCertDer, NULL, NULL, NULL);
    if (key == NULL) goto done;
    if (xmlSecOpenSSLAppDefaultKeysMngrAdoptKey(mngr, key) < 0) { xmlSecKeyDestroy(key); goto done; }
    ctx = xmlSecEncCtxCreate(mngr);
    if (ctx == NULL) goto done;
    ctx->encKey = xmlSecKeyGenerate(xmlSecOpenSSLKeyDataAesGetKlass(), 256, xmlSecKeyDataTypeSession);
    if (ctx->encKey == NULL || xmlSecEncCtxXmlEncrypt(ctx, encData, node) < 0) goto done;
    // encData now stands where the assertion was: wrap it.
    xmlNsPtr saml = xmlSearchNsByHref(doc, parent, (const xmlChar *)"urn:oasis:names:tc:SAML:2.0:assertion");
    xmlNodePtr wrapper = xmlNewDocNode(doc, saml, (const xmlChar *)"EncryptedAssertion", NULL);
    if (wrapper == NULL) { encData = NULL; goto done; }
    xmlReplaceNode(encData, wrapper);
    xmlAddChild(wrapper, encData);
    encData = NULL;
    ret = 0;
done:
    if (ctx != NULL) xmlSecEncCtxDestroy(ctx);
    if (mngr != NULL) xmlSecKeysMngrDestroy(mngr);
    if (encData != NULL && encData->parent == NULL) xmlFreeNode(encData);
    return ret;
}

/// RSA PKCS#1 v1.5 / SHA-256 signature with the key loaded in `key`; returns the signature length, or -1.
static inline int cnsgw_rsa_sha256_sign(xmlSecKeyPtr key, const unsigned char *data, size_t length, unsigned char *out, size_t capacity) {
    EVP_PKEY *pkey = xmlSecOpenSSLEvpKeyDataGetEvp(xmlSecKeyGetValue(key));
    if (pkey == NULL) return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) return -1;
    size_t outLength = capacity;
    int ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 && EVP_DigestSign(ctx, out, &outLength, data, length) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? (int)outLength : -1;
}
static inline void cnsgw_sha256_digest(const unsigned char *data, size_t length, unsigned char *out) {
    unsigned int outLength = 32;
    EVP_Digest(data, length, out, &outLength, EVP_sha256(), NULL);
}

static inline void cnsgw_dsig_set_key(xmlSecDSigCtxPtr ctx, xmlSecKeyPtr key) { ctx->signKey = key; }
static inline void cnsgw_dsig_allow_uris(xmlSecDSigCtxPtr ctx) {
    ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty | xmlSecTransformUriTypeSameDocument;
}
static inline xmlSecDSigStatus cnsgw_dsig_status(xmlSecDSigCtxPtr ctx) { return ctx->status; }

#endif
