/*
 * test_crypto.c - core/crypto.c and core/fsutil.c: tokens, comparison,
 * hashes, sealing, the secret key file and durable file helpers.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stackhook/crypto.h"
#include "stackhook/fsutil.h"
#include "testutil.h"

static void
hex_of(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static bool
is_base64url(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* tokens and comparison */

static void
test_token_shape(void **state)
{
	static const struct {
		size_t nbytes, b64len;
	} sizes[] = {{1, 2}, {2, 3}, {3, 4}, {16, 22}, {32, 43}, {33, 44}, {128, 171}};
	struct sh_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *t = sh_crypto_token("whsec_", sizes[i].nbytes, &err);

		assert_non_null(t);
		assert_int_equal(strncmp(t, "whsec_", 6), 0);
		assert_int_equal(strlen(t), 6 + sizes[i].b64len);
		if (!is_base64url(t + 6))
			fail_msg("token \"%s\" is not unpadded base64url", t);
		free(t);
	}
}

static void
test_token_empty_prefix(void **state)
{
	struct sh_err err;
	char *t = sh_crypto_token("", 32, &err);

	(void)state;
	assert_non_null(t);
	assert_int_equal(strlen(t), 43);
	assert_true(is_base64url(t));
	free(t);
}

/* Over many tokens every character of the alphabet shows up, and only
 * those: '-' and '_' replace '+' and '/'. */
static void
test_token_alphabet(void **state)
{
	bool seen[256] = {false};
	struct sh_err err;
	size_t distinct = 0;

	(void)state;
	for (int i = 0; i < 200; i++) {
		char *t = sh_crypto_token("", 96, &err);

		assert_non_null(t);
		assert_true(is_base64url(t));
		for (char *p = t; *p; p++)
			seen[(unsigned char)*p] = true;
		free(t);
	}
	for (int c = 0; c < 256; c++)
		distinct += seen[c];
	assert_true(seen['-']);
	assert_true(seen['_']);
	assert_int_equal(distinct, 64);
}

static void
test_tokens_differ(void **state)
{
	struct sh_err err;
	char *a = sh_crypto_token("shk_", 32, &err);
	char *b = sh_crypto_token("shk_", 32, &err);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

static void
test_token_bad_length(void **state)
{
	struct sh_err err;

	(void)state;
	sh_err_clear(&err);
	assert_null(sh_crypto_token("x", 0, &err));
	assert_int_not_equal(err.code, SH_OK);
	sh_err_clear(&err);
	assert_null(sh_crypto_token("x", 129, &err));
	assert_int_not_equal(err.code, SH_OK);
}

static void
test_random(void **state)
{
	unsigned char a[32] = {0}, b[32] = {0}, zero[32] = {0};
	struct sh_err err;

	(void)state;
	assert_int_equal(sh_crypto_random(a, sizeof(a), &err), 0);
	assert_int_equal(sh_crypto_random(b, sizeof(b), &err), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
}

static void
test_equal(void **state)
{
	(void)state;
	assert_true(sh_crypto_equal("secret", 6, "secret", 6));
	assert_true(sh_crypto_equal("", 0, "", 0));
	/* lengths differ, even when one is a prefix of the other */
	assert_false(sh_crypto_equal("secret", 6, "secret!", 7));
	assert_false(sh_crypto_equal("secret", 6, "", 0));
	/* one byte differs: first, middle, last */
	assert_false(sh_crypto_equal("secret", 6, "Secret", 6));
	assert_false(sh_crypto_equal("secret", 6, "secRet", 6));
	assert_false(sh_crypto_equal("secret", 6, "secreT", 6));
	/* bytes after a NUL count */
	assert_false(sh_crypto_equal("a\0b", 3, "a\0c", 3));
}

static void
test_wipe(void **state)
{
	unsigned char buf[16], zero[16] = {0};

	(void)state;
	memset(buf, 0xa5, sizeof(buf));
	sh_crypto_wipe(buf, sizeof(buf));
	assert_memory_equal(buf, zero, sizeof(buf));
}

/* ------------------------------------------------------------------ */
/* hashes */

static void
test_sha256_vectors(void **state)
{
	char out[SH_SHA256_HEX_LEN + 1];

	(void)state;
	/* FIPS 180-2 examples */
	sh_crypto_sha256_hex("abc", 3, out);
	assert_string_equal(
		out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sh_crypto_sha256_hex("", 0, out);
	assert_string_equal(
		out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sh_crypto_sha256_hex(
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, out);
	assert_string_equal(
		out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void
test_hmac_rfc4231(void **state)
{
	unsigned char key1[20], key6[131], mac[SH_SHA256_LEN];
	char hex[2 * SH_SHA256_LEN + 1];
	struct sh_err err;

	(void)state;
	/* Test Case 1 */
	memset(key1, 0x0b, sizeof(key1));
	assert_int_equal(sh_crypto_hmac_sha256(key1, sizeof(key1), "Hi There", 8,
					       mac, &err),
			 0);
	hex_of(mac, sizeof(mac), hex);
	assert_string_equal(
		hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

	/* Test Case 2: a key shorter than the block */
	assert_int_equal(sh_crypto_hmac_sha256("Jefe", 4,
					       "what do ya want for nothing?", 28,
					       mac, &err),
			 0);
	hex_of(mac, sizeof(mac), hex);
	assert_string_equal(
		hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

	/* Test Case 6: a key longer than the block is hashed first */
	memset(key6, 0xaa, sizeof(key6));
	assert_int_equal(
		sh_crypto_hmac_sha256(
			key6, sizeof(key6),
			"Test Using Larger Than Block-Size Key - Hash Key First", 54,
			mac, &err),
		0);
	hex_of(mac, sizeof(mac), hex);
	assert_string_equal(
		hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

/* ------------------------------------------------------------------ */
/* sealing */

#define SEAL_OVERHEAD (1 + 12 + 16) /* version, IV, tag */

static void
make_key(unsigned char key[SH_SECRET_KEY_LEN], unsigned char fill)
{
	for (size_t i = 0; i < SH_SECRET_KEY_LEN; i++)
		key[i] = (unsigned char)(fill + i);
}

/* A sealed value and the key it was sealed with. */
struct box {
	unsigned char key[SH_SECRET_KEY_LEN];
	unsigned char *data; /* free it */
	size_t len;
};

/* Seals len bytes of plain under the key make_key(fill) gives, which
 * must work: the same fill gives the same key, so boxes can be compared. */
static void
box_seal(struct box *b, unsigned char fill, const void *plain, size_t len)
{
	struct sh_err err;

	make_key(b->key, fill);
	b->data = NULL;
	b->len = 0;
	sh_err_clear(&err);
	if (sh_crypto_seal(b->key, plain, len, &b->data, &b->len, &err) < 0)
		fail_msg("seal: %s", err.msg);
	assert_non_null(b->data);
}

/* Opens len bytes of the box with key, which must work; returns the text
 * (free it) and its length in *out_len. */
static char *
box_open(const struct box *b, const unsigned char *key, size_t len,
	 size_t *out_len)
{
	struct sh_err err;
	char *out = NULL;

	*out_len = SIZE_MAX; /* open must say, also for an empty text */
	sh_err_clear(&err);
	if (sh_crypto_open(key, b->data, len, &out, out_len, &err) < 0)
		fail_msg("open: %s", err.msg);
	assert_non_null(out);
	return out;
}

/* true when opening len bytes of the box with key fails and leaves no
 * text behind; err says why. */
static bool
box_refused(const struct box *b, const unsigned char *key, size_t len,
	    struct sh_err *err)
{
	char *out = (char *)&out;
	size_t out_len;

	sh_err_clear(err);
	if (sh_crypto_open(key, b->data, len, &out, &out_len, err) != -1) {
		free(out);
		return false;
	}
	return out == NULL;
}

static void
test_seal_round_trip(void **state)
{
	static const char plain[] = "glpat-0123456789abcdefghij";
	struct box b;
	size_t out_len;
	char *out;

	(void)state;
	box_seal(&b, 1, plain, strlen(plain));
	assert_int_equal(b.len, strlen(plain) + SEAL_OVERHEAD);
	/* the text does not show through */
	assert_false(tu_mem_contains(b.data, b.len, "glpat-"));
	assert_false(tu_mem_contains(b.data, b.len, "0123456789"));

	out = box_open(&b, b.key, b.len, &out_len);
	assert_int_equal(out_len, strlen(plain));
	assert_string_equal(out, plain); /* also proves the trailing NUL */
	free(out);
	free(b.data);
}

static void
test_seal_empty_and_binary(void **state)
{
	static const unsigned char bin[] = {0, 1, 2, 0, 255, 0};
	struct box b;
	size_t out_len;
	char *out;

	(void)state;
	box_seal(&b, 7, "", 0);
	assert_int_equal(b.len, SEAL_OVERHEAD);
	out = box_open(&b, b.key, b.len, &out_len);
	assert_int_equal(out_len, 0);
	assert_string_equal(out, "");
	free(out);
	free(b.data);

	box_seal(&b, 7, bin, sizeof(bin));
	out = box_open(&b, b.key, b.len, &out_len);
	assert_int_equal(out_len, sizeof(bin));
	assert_memory_equal(out, bin, sizeof(bin));
	free(out);
	free(b.data);
}

static void
test_open_wrong_key(void **state)
{
	unsigned char other[SH_SECRET_KEY_LEN];
	struct box b;
	struct sh_err err;

	(void)state;
	box_seal(&b, 1, "token", 5);
	make_key(other, 1);
	other[31] ^= 1; /* one bit */
	assert_true(box_refused(&b, other, b.len, &err));
	assert_int_not_equal(err.code, SH_OK);
	assert_null(strstr(err.msg, "token"));
	free(b.data);
}

/* Every single-bit change anywhere -- version, IV, ciphertext, tag --
 * makes open fail. */
static void
test_open_tampered(void **state)
{
	struct box b;
	struct sh_err err;
	size_t out_len;
	char *out;

	(void)state;
	box_seal(&b, 3, "some token", 10);
	for (size_t i = 0; i < b.len; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			b.data[i] ^= (unsigned char)(1u << bit);
			if (!box_refused(&b, b.key, b.len, &err))
				fail_msg("opened with byte %zu bit %d flipped", i, bit);
			b.data[i] ^= (unsigned char)(1u << bit);
		}
	}
	/* untouched, it still opens */
	out = box_open(&b, b.key, b.len, &out_len);
	assert_string_equal(out, "some token");
	free(out);
	free(b.data);
}

static void
test_open_truncated(void **state)
{
	struct box b;
	struct sh_err err;

	(void)state;
	box_seal(&b, 5, "abcdef", 6);
	for (size_t len = 0; len < b.len; len++)
		if (!box_refused(&b, b.key, len, &err))
			fail_msg("opened when cut to %zu bytes", len);
	free(b.data);
}

static void
test_seal_fresh_iv(void **state)
{
	struct box a, b;

	(void)state;
	box_seal(&a, 9, "same text", 9);
	box_seal(&b, 9, "same text", 9);
	assert_int_equal(a.len, b.len);
	assert_int_equal(a.data[0], b.data[0]);                /* version */
	assert_memory_not_equal(a.data + 1, b.data + 1, 12);   /* IV */
	assert_memory_not_equal(a.data + 13, b.data + 13, 9);  /* ciphertext */
	free(a.data);
	free(b.data);
}

/* ------------------------------------------------------------------ */
/* the secret key file */

/* path is of type (S_IFREG, S_IFDIR) with exactly the permission bits
 * mode -- the code sets them, whatever the umask; returns its size. */
static off_t
expect_mode(const char *path, mode_t type, mode_t mode)
{
	struct stat st;

	if (stat(path, &st) < 0)
		fail_msg("stat %s: %s", path, strerror(errno));
	assert_int_equal(st.st_mode & S_IFMT, type);
	assert_int_equal(st.st_mode & 07777, mode);
	return st.st_size;
}

/* Creates the key file at path, which must work; whether it made a new
 * one must be want. */
static void
create_key(const char *path, bool want)
{
	struct sh_err err;
	bool created = !want;

	sh_err_clear(&err);
	if (sh_crypto_create_key(path, &created, &err) < 0)
		fail_msg("create %s: %s", path, err.msg);
	assert_int_equal(created, want);
}

/* true when loading the key at path fails as a config error whose message
 * names path and, unless NULL, why; err says what happened. */
static bool
key_refused(const char *path, const char *why, struct sh_err *err)
{
	unsigned char key[SH_SECRET_KEY_LEN];

	sh_err_clear(err);
	return sh_crypto_load_key(path, key, err) == -1 &&
	       err->code == SH_E_CONFIG && strstr(err->msg, path) != NULL &&
	       (why == NULL || strstr(err->msg, why) != NULL);
}

static void
test_key_create(void **state)
{
	struct tu_dir *d = *state;
	unsigned char loaded[SH_SECRET_KEY_LEN];
	char path[PATH_MAX], *first, *second;
	size_t len;
	struct sh_err err;

	tu_join(path, d->path, "secret.key");
	create_key(path, true);
	assert_int_equal(expect_mode(path, S_IFREG, 0600), SH_SECRET_KEY_LEN);
	first = tu_read_file(path, &len);
	assert_non_null(first);

	/* again: nothing changes */
	create_key(path, false);
	second = tu_read_file(path, &len);
	assert_non_null(second);
	assert_int_equal(len, SH_SECRET_KEY_LEN);
	assert_memory_equal(first, second, SH_SECRET_KEY_LEN);

	assert_int_equal(sh_crypto_load_key(path, loaded, &err), 0);
	assert_memory_equal(loaded, first, SH_SECRET_KEY_LEN);
	free(first);
	free(second);
}

/* The mode does not depend on the caller's umask being strict. */
static void
test_key_create_loose_umask(void **state)
{
	struct tu_dir *d = *state;
	char path[PATH_MAX];
	mode_t old = umask(0);

	tu_join(path, d->path, "secret.key");
	create_key(path, true);
	umask(old);
	expect_mode(path, S_IFREG, 0600);
}

static void
test_key_two_keys_differ(void **state)
{
	struct tu_dir *d = *state;
	unsigned char a[SH_SECRET_KEY_LEN], b[SH_SECRET_KEY_LEN];
	char pa[PATH_MAX], pb[PATH_MAX];
	struct sh_err err;

	tu_join(pa, d->path, "a.key");
	tu_join(pb, d->path, "b.key");
	create_key(pa, true);
	create_key(pb, true);
	assert_int_equal(sh_crypto_load_key(pa, a, &err), 0);
	assert_int_equal(sh_crypto_load_key(pb, b, &err), 0);
	assert_memory_not_equal(a, b, SH_SECRET_KEY_LEN);
}

static void
test_key_create_in_missing_dir(void **state)
{
	struct tu_dir *d = *state;
	char path[PATH_MAX];
	struct sh_err err;
	bool created = true;

	tu_join(path, d->path, "no/such/dir/secret.key");
	sh_err_clear(&err);
	assert_int_equal(sh_crypto_create_key(path, &created, &err), -1);
	assert_false(created);
	assert_int_not_equal(err.code, SH_OK);
	assert_non_null(strstr(err.msg, path));
}

static void
test_key_load_wrong_size(void **state)
{
	struct tu_dir *d = *state;
	static const size_t sizes[] = {0, 1, 31, 33, 64};
	unsigned char key[SH_SECRET_KEY_LEN], bytes[64] = {0};
	char path[PATH_MAX];
	struct sh_err err;

	tu_join(path, d->path, "secret.key");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(tu_write_file_len(path, bytes, sizes[i], 0600), 0);
		if (!key_refused(path, NULL, &err))
			fail_msg("a %zu-byte key file was not refused: \"%s\"",
				 sizes[i], err.msg);
	}
	/* 32 bytes with the right mode is fine */
	assert_int_equal(tu_write_file_len(path, bytes, 32, 0600), 0);
	assert_int_equal(sh_crypto_load_key(path, key, &err), 0);
}

static void
test_key_load_readable_by_others(void **state)
{
	static const mode_t modes[] = {0640, 0604, 0660, 0644, 0606, 0610, 0601};
	struct tu_dir *d = *state;
	unsigned char key[SH_SECRET_KEY_LEN], bytes[SH_SECRET_KEY_LEN] = {1};
	char path[PATH_MAX];
	struct sh_err err;

	tu_join(path, d->path, "secret.key");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(tu_write_file_len(path, bytes, sizeof(bytes), modes[i]),
				 0);
		if (!key_refused(path, "chmod", &err))
			fail_msg("a key file with mode %o was not refused: \"%s\"",
				 (unsigned)modes[i], err.msg);
	}
	/* 0400 is owner-only too */
	assert_int_equal(tu_write_file_len(path, bytes, sizeof(bytes), 0400), 0);
	assert_int_equal(sh_crypto_load_key(path, key, &err), 0);
	assert_memory_equal(key, bytes, sizeof(bytes));
}

static void
test_key_load_not_a_file(void **state)
{
	struct tu_dir *d = *state;
	unsigned char key[SH_SECRET_KEY_LEN], bytes[SH_SECRET_KEY_LEN] = {0};
	char path[PATH_MAX], target[PATH_MAX];
	struct sh_err err;

	/* missing */
	tu_join(path, d->path, "missing.key");
	assert_true(key_refused(path, NULL, &err));
	/* a directory */
	assert_true(key_refused(d->path, NULL, &err));
	/* a symbolic link, even to a good key, is refused (O_NOFOLLOW) */
	tu_join(target, d->path, "real.key");
	assert_int_equal(tu_write_file_len(target, bytes, sizeof(bytes), 0600), 0);
	assert_int_equal(sh_crypto_load_key(target, key, &err), 0);
	tu_join(path, d->path, "link.key");
	assert_int_equal(symlink(target, path), 0);
	assert_true(key_refused(path, NULL, &err));
}

/* ------------------------------------------------------------------ */
/* fsutil */

static void
test_fs_dirname(void **state)
{
	static const struct {
		const char *path, *dir;
	} cases[] = {
		{"/etc/stackhook/secret.key", "/etc/stackhook"},
		{"/secret.key", "/"},
		{"secret.key", "."},
		{"a/b", "a"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *dir = sh_fs_dirname(cases[i].path);

		assert_non_null(dir);
		assert_string_equal(dir, cases[i].dir);
		free(dir);
	}
}

static void
test_fs_write_new_file(void **state)
{
	struct tu_dir *d = *state;
	char path[PATH_MAX], *data;
	struct sh_err err;
	size_t len;

	tu_join(path, d->path, "entry");
	assert_int_equal(sh_fs_write_new_file(path, "hello\0world", 11, &err), 0);
	expect_mode(path, S_IFREG, 0600);
	data = tu_read_file(path, &len);
	assert_non_null(data);
	assert_int_equal(len, 11);
	assert_memory_equal(data, "hello\0world", 11);
	free(data);

	/* an existing file is neither replaced nor removed */
	sh_err_clear(&err);
	assert_int_equal(sh_fs_write_new_file(path, "other", 5, &err), -1);
	assert_int_equal(err.code, SH_E_IO);
	data = tu_read_file(path, &len);
	assert_non_null(data);
	assert_int_equal(len, 11);
	free(data);
}

static void
test_fs_mkdir(void **state)
{
	struct tu_dir *d = *state;
	char path[PATH_MAX], file[PATH_MAX];
	struct sh_err err;
	bool created = false;

	tu_join(path, d->path, "sub");
	assert_int_equal(sh_fs_mkdir(path, &created, &err), 0);
	assert_true(created);
	expect_mode(path, S_IFDIR, 0700);
	assert_int_equal(sh_fs_mkdir(path, &created, &err), 0);
	assert_false(created);
	assert_int_equal(sh_fs_mkdir(path, NULL, &err), 0);

	tu_join(file, d->path, "file");
	assert_int_equal(tu_write_file(file, "x"), 0);
	assert_int_equal(sh_fs_mkdir(file, &created, &err), -1);
	assert_false(created);
	assert_non_null(strstr(err.msg, "not a directory"));

	tu_join(path, d->path, "no/such");
	assert_int_equal(sh_fs_mkdir(path, &created, &err), -1);
}

static void
test_fs_read_write_full(void **state)
{
	struct tu_dir *d = *state;
	char path[PATH_MAX];
	unsigned char big[100000];
	unsigned char *back;
	int fd;

	tu_join(path, d->path, "data");
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(sh_fs_write_full(fd, big, sizeof(big)), 0);
	close(fd);

	back = malloc(sizeof(big) + 10);
	assert_non_null(back);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	/* asks for more than there is: stops at the end */
	assert_int_equal(sh_fs_read_full(fd, back, sizeof(big) + 10), sizeof(big));
	assert_memory_equal(back, big, sizeof(big));
	assert_int_equal(sh_fs_read_full(fd, back, 10), 0);
	close(fd);
	free(back);

	assert_int_equal(sh_fs_read_full(-1, big, 1), -1);
	assert_int_equal(sh_fs_write_full(-1, big, 1), -1);
}

static void
test_fs_fsync_dir(void **state)
{
	struct tu_dir *d = *state;
	char path[PATH_MAX];
	struct sh_err err;

	assert_int_equal(sh_fs_fsync_dir(d->path, true, &err), 0);
	tu_join(path, d->path, "not-yet-a-file");
	assert_int_equal(sh_fs_fsync_dir(path, false, &err), 0);
	tu_join(path, d->path, "missing/dir/x");
	assert_int_equal(sh_fs_fsync_dir(path, false, &err), -1);
	assert_int_equal(err.code, SH_E_IO);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tu_dir_setup, tu_dir_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_shape),
		cmocka_unit_test(test_token_empty_prefix),
		cmocka_unit_test(test_token_alphabet),
		cmocka_unit_test(test_tokens_differ),
		cmocka_unit_test(test_token_bad_length),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_wipe),
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_seal_round_trip),
		cmocka_unit_test(test_seal_empty_and_binary),
		cmocka_unit_test(test_open_wrong_key),
		cmocka_unit_test(test_open_tampered),
		cmocka_unit_test(test_open_truncated),
		cmocka_unit_test(test_seal_fresh_iv),
		T(test_key_create),
		T(test_key_create_loose_umask),
		T(test_key_two_keys_differ),
		T(test_key_create_in_missing_dir),
		T(test_key_load_wrong_size),
		T(test_key_load_readable_by_others),
		T(test_key_load_not_a_file),
		cmocka_unit_test(test_fs_dirname),
		T(test_fs_write_new_file),
		T(test_fs_mkdir),
		T(test_fs_read_write_full),
		T(test_fs_fsync_dir),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
