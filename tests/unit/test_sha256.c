/* SHA-256 (vmm/snapshot/sha256.c) against the FIPS 180-4 examples, and fed in pieces of every size. */
#include "check.h"
#include "snapshot/sha256.h"

#include <stdlib.h>
#include <string.h>

static void expect(const void *data, size_t len, const char *hex)
{
	uint8_t d[SHA256_LEN];
	char h[2 * SHA256_LEN + 1];
	sha256(data, len, d);
	sha256_hex(d, h);
	CHECK(!strcmp(h, hex));
}

int main(void)
{
	expect("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	expect("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	expect(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	char *million = malloc(1000000);
	memset(million, 'a', 1000000);
	expect(million, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* In pieces of 1 to 200 bytes: the same digest as in one go. */
	uint8_t whole[SHA256_LEN], parts[SHA256_LEN];
	for (size_t i = 0; i < 1000; i++)
		million[i] = (char)(i * 7);
	sha256(million, 1000, whole);
	int bad = 0;
	for (size_t piece = 1; piece <= 200; piece++) {
		struct sha256 s;
		sha256_init(&s);
		for (size_t off = 0; off < 1000; off += piece)
			sha256_update(&s, million + off, off + piece <= 1000 ? piece : 1000 - off);
		sha256_final(&s, parts);
		bad += memcmp(whole, parts, SHA256_LEN) != 0;
	}
	CHECK_EQ(bad, 0);
	free(million);
	return check_exit();
}
