#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "stackhook/crypto.h"
#include "stackhook/fsutil.h"

#define SEAL_VERSION 1
#define GCM_IV_LEN 12
#define GCM_TAG_LEN 16

int
sh_crypto_random(void *buf, size_t len, struct sh_err *err)
{
	if (len > INT32_MAX || RAND_priv_bytes(buf, (int)len) != 1)
		return sh_err_set(err, SH_E_INTERNAL, NULL,
				  "the random number generator failed");
	return 0;
}

/* Unpadded base64url of len bytes; out must hold 4*ceil(len/3)+1 bytes. */
static void
base64url(const unsigned char *in, size_t len, char *out)
{
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);

	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (char *p = out; *p; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	}
}

char *
sh_crypto_token(const char *prefix, size_t nbytes, struct sh_err *err)
{
	unsigned char raw[128];
	size_t plen = strlen(prefix);
	char *out;

	if (nbytes == 0 || nbytes > sizeof(raw)) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "bad secret length");
		return NULL;
	}
	out = malloc(plen + 4 * ((nbytes + 2) / 3) + 1);
	if (out == NULL) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
		return NULL;
	}
	if (sh_crypto_random(raw, nbytes, err) < 0) {
		free(out);
		return NULL;
	}
	memcpy(out, prefix, plen);
	base64url(raw, nbytes, out + plen);
	sh_crypto_wipe(raw, sizeof(raw));
	return out;
}

bool
sh_crypto_equal(const void *a, size_t a_len, const void *b, size_t b_len)
{
	/* Lengths of secrets are not secret; their bytes are. */
	if (a_len != b_len)
		return false;
	return CRYPTO_memcmp(a, b, a_len) == 0;
}

void
sh_crypto_sha256_hex(const void *data, size_t len, char out[SH_SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SH_SHA256_LEN];

	EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL);
	for (size_t i = 0; i < SH_SHA256_LEN; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[SH_SHA256_HEX_LEN] = '\0';
}

int
sh_crypto_hmac_sha256(const void *key, size_t key_len, const void *data,
		      size_t len, unsigned char out[SH_SHA256_LEN],
		      struct sh_err *err)
{
	unsigned int out_len = SH_SHA256_LEN;

	if (key_len > INT32_MAX ||
	    HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len) == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "HMAC-SHA256 failed");
	return 0;
}

int
sh_crypto_seal(const unsigned char key[SH_SECRET_KEY_LEN], const void *plain,
	       size_t len, unsigned char **out, size_t *out_len, struct sh_err *err)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *sealed = NULL, *iv, *body;
	int n, fin;

	*out = NULL;
	if (len > INT32_MAX - 64) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "value too long to seal");
		goto fail;
	}
	sealed = malloc(1 + GCM_IV_LEN + len + GCM_TAG_LEN);
	ctx = EVP_CIPHER_CTX_new();
	if (sealed == NULL || ctx == NULL) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
		goto fail;
	}
	sealed[0] = SEAL_VERSION;
	iv = sealed + 1;
	body = iv + GCM_IV_LEN;
	if (sh_crypto_random(iv, GCM_IV_LEN, err) < 0)
		goto fail;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv) != 1 ||
	    EVP_EncryptUpdate(ctx, body, &n, plain, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, body + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN,
				body + len) != 1) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "AES-256-GCM sealing failed");
		goto fail;
	}
	EVP_CIPHER_CTX_free(ctx);
	*out = sealed;
	*out_len = 1 + GCM_IV_LEN + len + GCM_TAG_LEN;
	return 0;
fail:
	EVP_CIPHER_CTX_free(ctx);
	free(sealed);
	return -1;
}

int
sh_crypto_open(const unsigned char key[SH_SECRET_KEY_LEN],
	       const unsigned char *sealed, size_t len, char **out,
	       size_t *out_len, struct sh_err *err)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char tag[GCM_TAG_LEN];
	char *plain = NULL;
	size_t body_len;
	int n, fin;

	*out = NULL;
	if (len < 1 + GCM_IV_LEN + GCM_TAG_LEN || sealed[0] != SEAL_VERSION ||
	    len > INT32_MAX) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "sealed value is malformed");
		goto fail;
	}
	body_len = len - 1 - GCM_IV_LEN - GCM_TAG_LEN;
	memcpy(tag, sealed + len - GCM_TAG_LEN, GCM_TAG_LEN);
	plain = malloc(body_len + 1);
	ctx = EVP_CIPHER_CTX_new();
	if (plain == NULL || ctx == NULL) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
		goto fail;
	}
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, sealed + 1) != 1 ||
	    EVP_DecryptUpdate(ctx, (unsigned char *)plain, &n,
			      sealed + 1 + GCM_IV_LEN, (int)body_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + n, &fin) != 1) {
		sh_err_set(err, SH_E_INTERNAL, NULL,
			   "sealed value does not open with the secret key "
			   "(was secret_key_file replaced?)");
		goto fail;
	}
	EVP_CIPHER_CTX_free(ctx);
	plain[body_len] = '\0';
	*out = plain;
	*out_len = body_len;
	return 0;
fail:
	EVP_CIPHER_CTX_free(ctx);
	if (plain != NULL) {
		sh_crypto_wipe(plain, body_len);
		free(plain);
	}
	return -1;
}

int
sh_crypto_load_key(const char *path, unsigned char key[SH_SECRET_KEY_LEN],
		   struct sh_err *err)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return sh_err_errno(err, SH_E_CONFIG, errno,
				    "cannot read secret key file %s", path);
	if (fstat(fd, &st) < 0) {
		sh_err_errno(err, SH_E_CONFIG, errno, "cannot stat %s", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size != SH_SECRET_KEY_LEN) {
		sh_err_set(err, SH_E_CONFIG, NULL,
			   "secret key file %s must be a file of exactly %d bytes",
			   path, SH_SECRET_KEY_LEN);
		goto fail;
	}
	if ((st.st_mode & 077) != 0) {
		sh_err_set(err, SH_E_CONFIG, NULL,
			   "secret key file %s may be read by others: chmod 600 it",
			   path);
		goto fail;
	}
	n = sh_fs_read_full(fd, key, SH_SECRET_KEY_LEN);
	if (n != SH_SECRET_KEY_LEN) {
		sh_err_errno(err, SH_E_CONFIG, n < 0 ? errno : EIO,
			     "cannot read secret key file %s", path);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

int
sh_crypto_create_key(const char *path, bool *created, struct sh_err *err)
{
	unsigned char key[SH_SECRET_KEY_LEN];
	int rc;

	*created = false;
	if (access(path, F_OK) == 0)
		return 0;
	if (sh_crypto_random(key, sizeof(key), err) < 0)
		return -1;
	rc = sh_fs_write_new_file(path, key, sizeof(key), err);
	sh_crypto_wipe(key, sizeof(key));
	if (rc == 0)
		*created = true;
	return rc;
}

void
sh_crypto_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}
