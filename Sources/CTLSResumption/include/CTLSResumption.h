#ifndef CTLS_RESUMPTION_H
#define CTLS_RESUMPTION_H

/// Turns TLS session resumption off on a BoringSSL `SSL_CTX` of swift-nio-ssl: no TLS 1.3 session tickets, no TLS 1.2
/// tickets, no server-side session cache. `ssl_ctx` must be the `SSL_CTX *` of a live `NIOSSLContext`. Returns 1 when
/// every setting took, 0 otherwise.
///
/// swift-nio-ssl (2.x) has no switch for these, and its BoringSSL is not a product another package can import, so this
/// declares the three BoringSSL functions it links in (their names carry swift-nio-ssl's `CNIOBoringSSL_` prefix).
int cnsgw_tls_disable_resumption(void *ssl_ctx);

#endif
