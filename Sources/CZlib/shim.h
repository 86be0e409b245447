#ifndef CNSGW_CZLIB_SHIM_H
#define CNSGW_CZLIB_SHIM_H
#include <zlib.h>
// inflateInit2 and deflateInit2 are macros, which Swift does not import.
static inline int cnsgw_inflate_init_raw(z_stream *s) { return inflateInit2(s, -15); }
static inline int cnsgw_deflate_init_raw(z_stream *s) { return deflateInit2(s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY); }
#endif
