/* Unit tests of the S3 provider's pure parts: the XML reader, listing roll-up, checksums, URL
 * coding, record encoding, keys, ranges and bucket names. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "providers/s3/internal.h"

static proto_arena *arena;

static void setup(void)
{
    arena = proto_arena_new();
}

static void teardown(void)
{
    proto_arena_free(arena);
}

TestSuite(s3_xml, .init = setup, .fini = teardown);
TestSuite(s3_list, .init = setup, .fini = teardown);
TestSuite(s3_checksum);
TestSuite(s3_records, .init = setup, .fini = teardown);
TestSuite(s3_request);

static struct s3_xml_node *parse(const char *s)
{
    return s3_xml_parse(arena, s, strlen(s));
}

Test(s3_xml, parses_delete_objects_body)
{
    struct s3_xml_node *r =
        parse("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>a&amp;b</Key>"
              "</Object><Object><Key>c</Key><VersionId>v1</VersionId></Object><Quiet>true</Quiet>"
              "</Delete>");
    cr_assert_not_null(r);
    cr_assert_str_eq(r->name, "Delete");
    struct s3_xml_node *o = s3_xml_child(r, "Object");
    cr_assert_not_null(o);
    cr_assert_str_eq(s3_xml_child_text(o, "Key"), "a&b");
    cr_assert_str_eq(s3_xml_child_text(o->next, "VersionId"), "v1");
    cr_assert_str_eq(s3_xml_child_text(r, "Quiet"), "true");
}

Test(s3_xml, parses_complete_multipart_body_with_prefixes_and_cdata)
{
    struct s3_xml_node *r =
        parse("<s3:CompleteMultipartUpload xmlns:s3=\"x\"><s3:Part><s3:PartNumber>1</s3:PartNumber>"
              "<ETag>&quot;abc&quot;</ETag></s3:Part><!-- note --><Part><PartNumber>2</PartNumber>"
              "<ETag><![CDATA[\"d<e\"]]></ETag></Part></s3:CompleteMultipartUpload>");
    cr_assert_not_null(r);
    cr_assert_str_eq(r->name, "CompleteMultipartUpload");
    struct s3_xml_node *p = s3_xml_child(r, "Part");
    cr_assert_str_eq(s3_xml_child_text(p, "PartNumber"), "1");
    cr_assert_str_eq(s3_xml_child_text(p, "ETag"), "\"abc\"");
    cr_assert_str_eq(s3_xml_child_text(p->next, "ETag"), "\"d<e\"");
}

Test(s3_xml, decodes_character_references)
{
    struct s3_xml_node *r = parse("<K>&#65;&#x42;&#x4e2d;</K>");
    cr_assert_not_null(r);
    cr_assert_str_eq(r->text, "AB\xe4\xb8\xad");
}

Test(s3_xml, rejects_doctype_and_entities)
{
    cr_assert_null(parse("<!DOCTYPE x [<!ENTITY e \"boom\">]><Delete>&e;</Delete>"));
    cr_assert_null(parse("<Delete>&e;</Delete>"));
    cr_assert_null(parse("<Delete>&#0;</Delete>"));
    cr_assert_null(parse("<Delete><!ENTITY x \"y\"></Delete>"));
}

Test(s3_xml, refuses_entity_expansion_and_external_entities)
{
    /* billion laughs: refused at the DOCTYPE, before any expansion */
    cr_assert_null(parse("<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\">"
                         "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
                         "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><Delete><Key>&c;</Key>"
                         "</Delete>"));
    cr_assert_null(parse("<!DOCTYPE d SYSTEM \"file:///etc/passwd\"><Delete>x</Delete>"));
    cr_assert_null(parse("<!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                         "<Delete><Key>&x;</Key></Delete>"));
    cr_assert_null(parse("<!DOCTYPE d [<!ENTITY % p SYSTEM \"http://x/\"> %p;]><Delete/>"));
    /* a processing instruction outside the root is fine, inside it is not */
    cr_assert_not_null(parse("<?xml version=\"1.0\"?><?pi x?><Delete/><?pi y?>"));
    cr_assert_null(parse("<Delete><?pi x?></Delete>"));
}

Test(s3_xml, rejects_malformed_documents)
{
    cr_assert_null(parse(""));
    cr_assert_null(parse("not xml"));
    cr_assert_null(parse("<a><b></a></b>"));
    cr_assert_null(parse("<a>"));
    cr_assert_null(parse("<a></a><b></b>"));
    cr_assert_null(parse("<a></a>trailing"));
    cr_assert_null(parse("<a x=\"1></a>"));
    cr_assert_null(s3_xml_parse(arena, "<a>\0</a>", 8));
}

Test(s3_xml, bounds_depth)
{
    char doc[2048] = "";
    for (int i = 0; i < S3_XML_MAX_DEPTH; i++)
        strcat(doc, "<a>");
    for (int i = 0; i < S3_XML_MAX_DEPTH; i++)
        strcat(doc, "</a>");
    cr_assert_not_null(parse(doc));
    char deep[2048] = "";
    for (int i = 0; i < S3_XML_MAX_DEPTH + 1; i++)
        strcat(deep, "<a>");
    for (int i = 0; i < S3_XML_MAX_DEPTH + 1; i++)
        strcat(deep, "</a>");
    cr_assert_null(parse(deep));
}

Test(s3_xml, self_closing_and_attributes)
{
    struct s3_xml_node *r = parse("<a k='v' j=\"w\"><b/><c>x</c></a>");
    cr_assert_not_null(r);
    cr_assert_str_eq(s3_xml_child_text(r, "b"), "");
    cr_assert_str_eq(s3_xml_child_text(r, "c"), "x");
}

Test(s3_xml, escapes_and_url_encodes_output)
{
    struct proto_sb sb = PROTO_SB_INIT;
    s3_xml_elem(&sb, "Key", "a<b&\"c\"");
    cr_assert_str_eq(proto_sb_str(&sb), "<Key>a&lt;b&amp;&quot;c&quot;</Key>");
    proto_sb_reset(&sb);
    s3_xml_elem_key(&sb, "Key", "e+f g/%.txt", 11, 1);
    cr_assert_str_eq(proto_sb_str(&sb), "<Key>e%2Bf%20g/%25.txt</Key>");
    proto_sb_free(&sb);
}

Test(s3_list, classifies_keys)
{
    size_t cp = 0;
    cr_assert_eq(s3_list_classify("a/b/c", 5, "", 0, "/", 1, &cp), 2);
    cr_assert_eq(cp, 2);
    cr_assert_eq(s3_list_classify("a/b/c", 5, "a/", 2, "/", 1, &cp), 2);
    cr_assert_eq(cp, 4);
    cr_assert_eq(s3_list_classify("a/b/c", 5, "a/b/", 4, "/", 1, &cp), 1);
    cr_assert_eq(s3_list_classify("a/b/c", 5, "b", 1, "/", 1, &cp), 0);
    cr_assert_eq(s3_list_classify("a/b/c", 5, "a", 1, "", 0, &cp), 1);
    cr_assert_eq(s3_list_classify("x--y--z", 7, "", 0, "--", 2, &cp), 2);
    cr_assert_eq(cp, 3);
    cr_assert_eq(s3_list_classify("ab", 2, "abc", 3, "/", 1, &cp), 0);
}

Test(s3_checksum, check_values)
{
    const char *s = "123456789";
    cr_assert_eq(s3_crc32_update(0, s, 9), 0xCBF43926u);
    cr_assert_eq(s3_crc32c_update(0, s, 9), 0xE3069283u);
    cr_assert_eq(s3_crc64nvme_update(0, s, 9), 0xAE8B14860A799888ull);
    /* incremental equals one-shot, across the 8-byte fast path */
    char buf[1000];
    for (int i = 0; i < 1000; i++)
        buf[i] = (char)(i * 31);
    uint32_t a = s3_crc32_update(0, buf, 1000);
    uint32_t b = s3_crc32_update(s3_crc32_update(0, buf, 13), buf + 13, 987);
    cr_assert_eq(a, b);
    uint64_t c = s3_crc64nvme_update(s3_crc64nvme_update(0, buf, 501), buf + 501, 499);
    cr_assert_eq(c, s3_crc64nvme_update(0, buf, 1000));
}

Test(s3_checksum, hasher_gives_md5_and_base64_crc)
{
    struct s3_hasher h;
    cr_assert_eq(s3_hasher_init(&h, 1, S3_CK_CRC32), 0);
    s3_hasher_update(&h, "hello", 5);
    char md5[33], sha[65], ck[S3_CK_B64_MAX];
    s3_hasher_final(&h, md5, NULL, sha, ck, NULL, NULL);
    s3_hasher_free(&h);
    cr_assert_str_eq(md5, "5d41402abc4b2a76b9719d911017c592");
    cr_assert_str_eq(sha, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    cr_assert_str_eq(ck, "NhCmhg==");
    unsigned char raw[8];
    cr_assert_eq(s3_base64_decode("NhCmhg==", raw, sizeof(raw)), 4);
    cr_assert_eq(s3_base64_decode("bad", raw, sizeof(raw)), -1);
}

Test(s3_records, object_round_trip)
{
    struct s3_obj o = {.key = "k\xc3\xa9y",
                       .key_len = 4,
                       .version_id = "v1",
                       .seq = 42,
                       .size = 1234,
                       .mtime = 1700000000.5,
                       .etag = "abc-2",
                       .blob = "b1",
                       .content_type = "text/plain",
                       .meta = "a\0b\0",
                       .meta_len = 4,
                       .tags = "t\0\0",
                       .tags_len = 3,
                       .checksum_algo = "CRC32",
                       .checksum = "AAAA",
                       .parts = 2};
    struct proto_sb sb = PROTO_SB_INIT;
    s3_obj_encode(&sb, &o);
    struct s3_obj d;
    cr_assert_eq(s3_obj_decode(arena, sb.buf, sb.len, &d), 0);
    cr_assert_eq(d.key_len, 4);
    cr_assert_eq(memcmp(d.key, o.key, 4), 0);
    cr_assert_str_eq(d.version_id, "v1");
    cr_assert_eq(d.seq, 42);
    cr_assert_eq(d.size, 1234);
    cr_assert_eq(d.mtime, 1700000000.5);
    cr_assert_str_eq(d.content_type, "text/plain");
    cr_assert_eq(s3_pairs_count(d.meta, d.meta_len), 1);
    cr_assert_eq(s3_pairs_count(d.tags, d.tags_len), 1);
    cr_assert_eq(d.parts, 2);
    cr_assert_null(d.content_encoding);
    /* truncated records are rejected, not over-read */
    cr_assert_eq(s3_obj_decode(arena, sb.buf, sb.len - 3, &d), -1);
    proto_sb_free(&sb);
}

Test(s3_records, owner_and_part_sizes_round_trip_separately)
{
    uint64_t sizes[2] = {5u << 20, 7};
    struct s3_obj o = {.key = "mp",
                       .key_len = 2,
                       .version_id = "null",
                       .etag = "abc-2",
                       .blob = "b1",
                       .parts = 2,
                       .part_sizes = (const char *)sizes,
                       .owner = "111122223333"};
    struct proto_sb sb = PROTO_SB_INIT;
    s3_obj_encode(&sb, &o);
    struct s3_obj d;
    cr_assert_eq(s3_obj_decode(arena, sb.buf, sb.len, &d), 0);
    cr_assert_str_eq(d.owner ? d.owner : "(null)", "111122223333");
    cr_assert_not_null(d.part_sizes);
    cr_assert_eq(memcmp(d.part_sizes, sizes, sizeof sizes), 0);
    /* an upload record: an owner and no parts */
    o.parts = 0;
    o.part_sizes = NULL;
    proto_sb_reset(&sb);
    s3_obj_encode(&sb, &o);
    cr_assert_eq(s3_obj_decode(arena, sb.buf, sb.len, &d), 0);
    cr_assert_str_eq(d.owner ? d.owner : "(null)", "111122223333");
    cr_assert_null(d.part_sizes);
    proto_sb_free(&sb);
}

Test(s3_records, keys_sort_like_s3_and_versions_newest_first)
{
    char a[S3_DBKEY_MAX], b[S3_DBKEY_MAX];
    size_t al = s3_dbkey_object(a, "bkt", "a/b", 3);
    size_t bl = s3_dbkey_object(b, "bkt", "a0", 2);
    cr_assert_lt(memcmp(a, b, al < bl ? al : bl), 0); /* '/' < '0' */
    al = s3_dbkey_version(a, "bkt", "k", 1, 100);
    bl = s3_dbkey_version(b, "bkt", "k", 1, 200);
    cr_assert_eq(al, bl);
    cr_assert_gt(memcmp(a, b, al), 0); /* newer sorts first */
    /* a long key becomes prefix + hash and stays within LMDB's key limit */
    char longkey[1024];
    memset(longkey, 'x', sizeof(longkey));
    al = s3_dbkey_version(a, "bucket-with-a-rather-long-name-of-sixty-three-characters-abcdefg",
                          longkey, sizeof(longkey), 1);
    cr_assert_leq(al, 511);
    char longkey2[1024];
    memcpy(longkey2, longkey, sizeof(longkey2));
    longkey2[1000] = 'y';
    bl = s3_dbkey_object(b, "b", longkey2, sizeof(longkey2));
    al = s3_dbkey_object(a, "b", longkey, sizeof(longkey));
    cr_assert(al == bl && memcmp(a, b, al) != 0);
}

Test(s3_records, sequence_is_monotonic)
{
    uint64_t prev = s3_next_seq();
    for (int i = 0; i < 1000; i++) {
        uint64_t n = s3_next_seq();
        cr_assert_gt(n, prev);
        prev = n;
    }
}

Test(s3_request, ranges)
{
    uint64_t s, e;
    cr_assert_eq(s3_parse_range("bytes=0-9", 100, &s, &e), 1);
    cr_assert(s == 0 && e == 9);
    cr_assert_eq(s3_parse_range("bytes=90-", 100, &s, &e), 1);
    cr_assert(s == 90 && e == 99);
    cr_assert_eq(s3_parse_range("bytes=-10", 100, &s, &e), 1);
    cr_assert(s == 90 && e == 99);
    cr_assert_eq(s3_parse_range("bytes=-1000", 100, &s, &e), 1);
    cr_assert(s == 0 && e == 99);
    cr_assert_eq(s3_parse_range("bytes=50-1000", 100, &s, &e), 1);
    cr_assert(s == 50 && e == 99);
    cr_assert_eq(s3_parse_range("bytes=100-", 100, &s, &e), -1);
    cr_assert_eq(s3_parse_range("bytes=-0", 100, &s, &e), -1);
    cr_assert_eq(s3_parse_range("bytes=9-2", 100, &s, &e), 0);
    cr_assert_eq(s3_parse_range("bytes=0-1,5-6", 100, &s, &e), 0);
    cr_assert_eq(s3_parse_range("items=0-1", 100, &s, &e), 0);
    cr_assert_eq(s3_parse_range("bytes=abc", 100, &s, &e), 0);
    cr_assert_eq(s3_parse_range(NULL, 100, &s, &e), 0);
}

Test(s3_request, bucket_names)
{
    cr_assert(s3_bucket_name_valid("my-bucket.name1"));
    cr_assert(s3_bucket_name_valid("abc"));
    cr_assert_not(s3_bucket_name_valid("ab"));
    cr_assert_not(s3_bucket_name_valid("My-Bucket"));
    cr_assert_not(s3_bucket_name_valid("-abc"));
    cr_assert_not(s3_bucket_name_valid("abc-"));
    cr_assert_not(s3_bucket_name_valid("a..b"));
    cr_assert_not(s3_bucket_name_valid("a.-b"));
    cr_assert_not(s3_bucket_name_valid("10.0.0.1"));
    cr_assert_not(s3_bucket_name_valid("xn--abc"));
    cr_assert_not(s3_bucket_name_valid("a_b"));
    char big[65];
    memset(big, 'a', 64);
    big[64] = 0;
    cr_assert_not(s3_bucket_name_valid(big));
}

Test(s3_request, http_dates)
{
    time_t t;
    cr_assert_eq(s3_parse_http_date("Thu, 26 Nov 2026 12:00:00 GMT", &t), 0);
    cr_assert_eq(t, 1795694400);
    cr_assert_eq(s3_parse_http_date("Thursday, 26-Nov-26 12:00:00 GMT", &t), 0);
    cr_assert_eq(t, 1795694400);
    cr_assert_eq(s3_parse_http_date("garbage", &t), -1);
}

Test(s3_request, url_decoding_keeps_plus)
{
    proto_arena *a = proto_arena_new();
    size_t n;
    char *s = s3_url_decode(a, "a%2Fb+c%20d%zz%", 15, &n);
    cr_assert_str_eq(s, "a/b+c d%zz%");
    cr_assert_eq(n, 11);
    proto_arena_free(a);
}

/* Mutates valid bodies at random: the reader must never crash or over-read (run under ASan). */
Test(s3_xml, survives_random_mutations)
{
    static const char *seeds[] = {
        "<?xml version=\"1.0\"?><Delete><Object><Key>a&amp;b</Key><VersionId>v</VersionId>"
        "</Object><Quiet>true</Quiet></Delete>",
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;x&quot;</ETag>"
        "</Part><!-- c --><Part><ETag><![CDATA[y]]></ETag></Part></CompleteMultipartUpload>",
        "<Tagging><TagSet><Tag><Key>k</Key><Value>&#x4e2d;&#65;</Value></Tag></TagSet></Tagging>",
    };
    unsigned seed = 12345;
    for (int i = 0; i < 20000; i++) {
        const char *s = seeds[i % 3];
        size_t n = strlen(s);
        char *buf = malloc(n + 16);
        memcpy(buf, s, n);
        int edits = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 4;
        for (int e = 0; e < edits; e++) {
            seed = seed * 1103515245 + 12345;
            size_t pos = (seed >> 8) % n;
            switch ((seed >> 4) % 3) {
            case 0:
                buf[pos] = (char)(seed >> 16);
                break; /* flip a byte */
            case 1:
                n = pos ? pos : 1;
                break; /* truncate */
            case 2:
                buf[pos] = "<>&;/!?[]\"'"[(seed >> 20) % 11];
                break; /* syntax */
            }
        }
        proto_arena *a = proto_arena_new();
        struct s3_xml_node *r = s3_xml_parse(a, buf, n);
        if (r) cr_assert_not_null(r->name);
        proto_arena_free(a);
        free(buf);
    }
}

Test(s3_request, virtual_host_names)
{
    cr_assert_eq(s3_virtual_host_bucket("mybucket.localhost", 18), 8);
    cr_assert_eq(s3_virtual_host_bucket("a.b.localhost", 13), 3);
    cr_assert_eq(s3_virtual_host_bucket("localhost", 9), 0);
    cr_assert_eq(s3_virtual_host_bucket("127.0.0.1", 9), 0);
    cr_assert_eq(s3_virtual_host_bucket("bkt.emulator.test", 17), 0);
    s3_set_host_name("emulator.test");
    cr_assert_eq(s3_virtual_host_bucket("bkt.emulator.test", 17), 3);
    cr_assert_eq(s3_virtual_host_bucket("emulator.test", 13), 0);
    s3_set_host_name("10.1.2.3");
    cr_assert_eq(s3_virtual_host_bucket("bkt.10.1.2.3", 12), 0);
    s3_set_host_name(NULL);
}

Test(s3_request, start_takes_the_host_name_from_the_configuration)
{
    struct proto_service_config cfg = {.host = "emulator.test"};
    char err[64];
    cr_assert_eq(s3_virtual_host_bucket("bkt.emulator.test", 17), 0);
    cr_assert_eq(s3_service.start(NULL, &cfg, err, sizeof err), 0);
    cr_assert_eq(s3_virtual_host_bucket("bkt.emulator.test", 17), 3);
    s3_set_host_name(NULL);
}

Test(s3_xml, bounds_size_and_element_count)
{
    size_t n = S3_XML_MAX_SIZE + 16;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    memcpy(big, "<a>", 3);
    memcpy(big + n - 4, "</a>", 4);
    big[n] = 0;
    cr_assert_null(s3_xml_parse(arena, big, n));
    free(big);
    /* more elements than allowed, each tiny */
    size_t count = S3_XML_MAX_NODES + 1;
    char *many = malloc(count * 4 + 16);
    size_t o = 0;
    o += (size_t)sprintf(many, "<r>");
    for (size_t i = 1; i < count; i++) {
        memcpy(many + o, "<b/>", 4);
        o += 4;
    }
    o += (size_t)sprintf(many + o, "</r>");
    cr_assert_lt(o, S3_XML_MAX_SIZE);
    cr_assert_null(s3_xml_parse(arena, many, o));
    free(many);
}

Test(s3_request, huge_range_numbers_are_unsatisfiable_or_clamped)
{
    uint64_t s, e;
    cr_assert_eq(s3_parse_range("bytes=99999999999999999999-", 100, &s, &e), -1);
    cr_assert_eq(s3_parse_range("bytes=18446744073709551615-", 100, &s, &e), -1);
    cr_assert_eq(s3_parse_range("bytes=0-99999999999999999999", 100, &s, &e), 1);
    cr_assert(s == 0 && e == 99);
    cr_assert_eq(s3_parse_range("bytes=-99999999999999999999", 100, &s, &e), 1);
    cr_assert(s == 0 && e == 99);
    cr_assert_eq(s3_parse_range("bytes=-", 100, &s, &e), 0);
    cr_assert_eq(s3_parse_range("bytes=5--6", 100, &s, &e), 0);
    cr_assert_eq(s3_parse_range("bytes=0-0", 0, &s, &e), -1);
}

Test(s3_request, plain_unsigned_integers)
{
    uint64_t n = 7;
    cr_assert_eq(s3_parse_uint("0", 1000, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(s3_parse_uint("10000", 10000, &n), 0);
    cr_assert_eq(n, 10000);
    cr_assert_eq(s3_parse_uint("2147483647", 2147483647u, &n), 0);
    cr_assert_eq(n, 2147483647u);
    cr_assert_eq(s3_parse_uint("2147483648", 2147483647u, &n), -1);
    cr_assert_eq(s3_parse_uint("10001", 10000, &n), -1);
    cr_assert_eq(s3_parse_uint("99999999999999999999999999", UINT64_MAX, &n), -1);
    cr_assert_eq(s3_parse_uint("18446744073709551615", UINT64_MAX, &n), 0);
    cr_assert_eq(n, UINT64_MAX);
    cr_assert_eq(s3_parse_uint("18446744073709551616", UINT64_MAX, &n), -1);
    cr_assert_eq(s3_parse_uint("7", 5, &n), -1);
    cr_assert_eq(s3_parse_uint("", 10, &n), -1);
    cr_assert_eq(s3_parse_uint(NULL, 10, &n), -1);
    cr_assert_eq(s3_parse_uint("-1", 10, &n), -1);
    cr_assert_eq(s3_parse_uint("+1", 10, &n), -1);
    cr_assert_eq(s3_parse_uint(" 1", 10, &n), -1);
    cr_assert_eq(s3_parse_uint("1x", 10, &n), -1);
}

Test(s3_list, continuation_tokens)
{
    const char *k;
    size_t n;
    cr_assert_eq(s3_token_decode(arena, "a2Rpci9h", &k, &n), 0); /* "k" "dir/a" */
    cr_assert_eq(n, 5);
    cr_assert_eq(memcmp(k, "dir/a", 5), 0);
    cr_assert_eq(s3_token_decode(arena, "aw==", &k, &n), -1);     /* "k" alone: no key */
    cr_assert_eq(s3_token_decode(arena, "eGRpcg==", &k, &n), -1); /* not 'k'-tagged */
    cr_assert_eq(s3_token_decode(arena, "garbage!", &k, &n), -1);
    cr_assert_eq(s3_token_decode(arena, "abc", &k, &n), -1);
    cr_assert_eq(s3_token_decode(arena, "", &k, &n), -1);
    cr_assert_eq(s3_token_decode(arena, "====", &k, &n), -1);
    cr_assert_eq(s3_token_decode(arena, NULL, &k, &n), -1);
    cr_assert_str_eq(s3_token_encode(arena, "dir/a", 5), "a2Rpci9h");
    const char key[] = "a\x00\xffz";
    cr_assert_eq(s3_token_decode(arena, s3_token_encode(arena, key, 4), &k, &n), 0);
    cr_assert_eq(n, 4);
    cr_assert_eq(memcmp(k, key, 4), 0);
}

Test(s3_xml, utf8_validation)
{
    cr_assert(s3_utf8_valid("", 0));
    cr_assert(s3_utf8_valid("plain/key", 9));
    cr_assert(s3_utf8_valid("\xC3\xA9", 2));         /* é */
    cr_assert(s3_utf8_valid("\xE2\x9C\x93", 3));     /* ✓ */
    cr_assert(s3_utf8_valid("\xF0\x9F\x98\x80", 4)); /* U+1F600 */
    cr_assert(s3_utf8_valid("\xF4\x8F\xBF\xBF", 4)); /* U+10FFFF */
    cr_assert_not(s3_utf8_valid("\xFF", 1));
    cr_assert_not(s3_utf8_valid("\xAE\x8A-", 3));        /* a lone continuation */
    cr_assert_not(s3_utf8_valid("\xC3", 1));             /* truncated */
    cr_assert_not(s3_utf8_valid("\xC0\xAF", 2));         /* overlong '/' */
    cr_assert_not(s3_utf8_valid("\xE0\x80\xAF", 3));     /* overlong '/' */
    cr_assert_not(s3_utf8_valid("\xED\xA0\x80", 3));     /* surrogate */
    cr_assert_not(s3_utf8_valid("\xF4\x90\x80\x80", 4)); /* above U+10FFFF */
    cr_assert_not(s3_utf8_valid("\xF8\x88\x80\x80\x80", 5));
    cr_assert_null(s3_xml_parse(arena, "<Key>\xFF</Key>", 12));
    cr_assert_not_null(s3_xml_parse(arena, "<Key>\xC3\xA9</Key>", 13));
}
