/*
 * crypto.h - secrets: CSPRNG, constant-time comparison, hashes, sealing.
 *
 * Everything here is a thin, checked layer over OpenSSL's libcrypto.
 */
#ifndef STACKHOOK_CRYPTO_H
#define STACKHOOK_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stackhook/err.h"

#define SH_SECRET_KEY_LEN 32 /* AES-256 key in secret_key_file */
#define SH_SHA256_LEN 32
#define SH_SHA256_HEX_LEN 64

/* Fills buf with len bytes from the CSPRNG.  Returns 0 or -1 (err set). */
int sh_crypto_random(void *buf, size_t len, struct sh_err *err);

/*
 * Makes a printable secret from nbytes CSPRNG bytes: prefix followed by
 * their unpadded base64url encoding.  Returns a string the caller frees, or
 * NULL (err set).
 */
char *sh_crypto_token(const char *prefix, size_t nbytes, struct sh_err *err);

/* true when the a_len bytes of a equal the b_len bytes of b; the time taken
 * does not depend on where they differ. */
bool sh_crypto_equal(const void *a, size_t a_len, const void *b, size_t b_len);

/* SHA-256 of data as 64 lowercase hex digits plus NUL in out. */
void sh_crypto_sha256_hex(const void *data, size_t len,
			  char out[SH_SHA256_HEX_LEN + 1]);

/* HMAC-SHA256 of data under key into out. Returns 0 or -1 (err set). */
int sh_crypto_hmac_sha256(const void *key, size_t key_len, const void *data,
			  size_t len, unsigned char out[SH_SHA256_LEN],
			  struct sh_err *err);

/*
 * Seals plain (len bytes) with AES-256-GCM under key, with a fresh random
 * 12-byte IV.  *out (freed by the caller) receives version byte, IV,
 * ciphertext and tag; *out_len its length.  Returns 0 or -1 (err set).
 */
int sh_crypto_seal(const unsigned char key[SH_SECRET_KEY_LEN], const void *plain,
		   size_t len, unsigned char **out, size_t *out_len,
		   struct sh_err *err);

/*
 * Opens what sh_crypto_seal() made.  The tag is checked before anything is
 * returned.  *out (freed by the caller, NUL-terminated for convenience)
 * receives the plain text, *out_len its length.  Returns 0 or -1 (err set;
 * the sealed data was not made under this key, or was changed).
 */
int sh_crypto_open(const unsigned char key[SH_SECRET_KEY_LEN],
		   const unsigned char *sealed, size_t len, char **out,
		   size_t *out_len, struct sh_err *err);

/*
 * Reads the 32-byte secret key file at path into key.  Refuses a file of
 * another size or one that others may read.  Returns 0 or -1 (err set).
 */
int sh_crypto_load_key(const char *path, unsigned char key[SH_SECRET_KEY_LEN],
		       struct sh_err *err);

/*
 * Creates the key file at path with 32 CSPRNG bytes, mode 0600, unless it
 * exists.  *created tells which happened.  Returns 0 or -1 (err set).
 */
int sh_crypto_create_key(const char *path, bool *created, struct sh_err *err);

/* Overwrites len bytes at p with zeros in a way the compiler keeps. */
void sh_crypto_wipe(void *p, size_t len);

#endif
