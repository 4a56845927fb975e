#ifndef SMEG_CSODIUM_SHIM_H
#define SMEG_CSODIUM_SHIM_H

#include <sodium.h>

/* Swift does not import function-like macros; these wrap the ones MeshCore needs. */

static inline size_t smeg_sodium_base64_encoded_len(size_t bin_len, int variant) {
    return sodium_base64_ENCODED_LEN(bin_len, variant);
}

#endif
