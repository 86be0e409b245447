#include "CTLSResumption.h"

#include <stddef.h>
#include <stdint.h>

// The BoringSSL functions inside swift-nio-ssl (CNIOBoringSSL/include/CNIOBoringSSL_ssl.h), declared by hand: that
// module cannot be imported from outside its package. Signatures as BoringSSL defines them.
extern int CNIOBoringSSL_SSL_CTX_set_num_tickets(void *ctx, size_t num_tickets);
extern int CNIOBoringSSL_SSL_CTX_set_session_cache_mode(void *ctx, int mode);
extern uint32_t CNIOBoringSSL_SSL_CTX_set_options(void *ctx, uint32_t options);
extern int CNIOBoringSSL_SSL_CTX_get_session_cache_mode(const void *ctx);

#define CNSGW_SSL_OP_NO_TICKET 0x00004000u   // SSL_OP_NO_TICKET
#define CNSGW_SSL_SESS_CACHE_OFF 0x0000      // SSL_SESS_CACHE_OFF

int cnsgw_tls_disable_resumption(void *ssl_ctx) {
    if (ssl_ctx == NULL) return 0;
    if (CNIOBoringSSL_SSL_CTX_set_num_tickets(ssl_ctx, 0) != 1) return 0;
    uint32_t options = CNIOBoringSSL_SSL_CTX_set_options(ssl_ctx, CNSGW_SSL_OP_NO_TICKET);
    CNIOBoringSSL_SSL_CTX_set_session_cache_mode(ssl_ctx, CNSGW_SSL_SESS_CACHE_OFF);
    return (options & CNSGW_SSL_OP_NO_TICKET) != 0 && CNIOBoringSSL_SSL_CTX_get_session_cache_mode(ssl_ctx) == CNSGW_SSL_SESS_CACHE_OFF;
}
