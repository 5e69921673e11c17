/* Unit tests of the tree's one hex and base64 codec. */
#include <criterion/criterion.h>
#include <string.h>

#include "sigv4/encode.h"

Test(sigv4_encode, hex_is_lower_case_and_terminated)
{
    char out[9];
    sigv4_hex("\x00\x9f\xff\x10", 4, out);
    cr_assert_str_eq(out, "009fff10");
    cr_assert_eq(sigv4_hex_value('a'), 10);
    cr_assert_eq(sigv4_hex_value('F'), 15);
    cr_assert_eq(sigv4_hex_value('g'), -1);
}

Test(sigv4_encode, base64_round_trips_every_tail_length)
{
    const char *vec[][2] = {{"", ""},
                            {"f", "Zg=="},
                            {"fo", "Zm8="},
                            {"foo", "Zm9v"},
                            {"foob", "Zm9vYg=="},
                            {"fooba", "Zm9vYmE="},
                            {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        char enc[16];
        unsigned char dec[16];
        size_t n = strlen(vec[i][0]);
        cr_assert_eq(sigv4_base64(vec[i][0], n, enc), strlen(vec[i][1]));
        cr_assert_str_eq(enc, vec[i][1]);
        cr_assert_eq(sigv4_base64_decode(enc, strlen(enc), dec, sizeof dec), (int64_t)n);
        cr_assert_eq(memcmp(dec, vec[i][0], n), 0);
    }
    unsigned char d[8];
    cr_assert_eq(sigv4_base64_decode("Zm8", 3, d, sizeof d), 2); /* padding optional */
    cr_assert_eq(sigv4_base64_decode("Zm9v\xff", 5, d, sizeof d), -1);
    cr_assert_eq(sigv4_base64_decode("Z", 1, d, sizeof d), -1);
    cr_assert_eq(sigv4_base64_decode("Zm=v", 4, d, sizeof d), -1); /* data after padding */
    cr_assert_eq(sigv4_base64_decode("Zm8=", 4, d, 1), -1);        /* does not fit */
}
