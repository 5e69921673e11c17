/* Maps sigv4/'s failure kinds to AWS's error codes per protocol, and S3's detail elements. */
#include "protocol/authfail.h"

#include "protocol/service.h"
#include "sigv4/encode.h"

enum proto_err proto_auth_err(const struct sigv4_failure *f, int s3)
{
    switch (f->kind) {
    case SIGV4_F_MISSING_AUTH:
        return s3 ? ERR_S3_ACCESS_DENIED : ERR_MISSING_AUTH_TOKEN;
    case SIGV4_F_UNSUPPORTED_AUTH:
        return s3 ? ERR_S3_INVALID_ARGUMENT : ERR_MISSING_AUTH_TOKEN;
    case SIGV4_F_AMBIGUOUS_AUTH:
        return s3 ? ERR_S3_INVALID_ARGUMENT : ERR_INVALID_SIGNATURE;
    case SIGV4_F_INCOMPLETE:
        return s3 ? ERR_S3_ACCESS_DENIED : ERR_INCOMPLETE_SIGNATURE;
    case SIGV4_F_MALFORMED:
        if (!s3) return ERR_INCOMPLETE_SIGNATURE;
        return f->presigned ? ERR_S3_AUTH_QUERY_PARAMS_ERROR : ERR_S3_AUTH_HEADER_MALFORMED;
    case SIGV4_F_NOT_IMPLEMENTED:
        return s3 ? ERR_S3_NOT_IMPLEMENTED : ERR_INCOMPLETE_SIGNATURE;
    case SIGV4_F_BAD_SCOPE:
        if (!s3) return ERR_INVALID_SIGNATURE;
        return f->presigned ? ERR_S3_AUTH_QUERY_PARAMS_ERROR : ERR_S3_AUTH_HEADER_MALFORMED;
    case SIGV4_F_EXPIRED:
        return s3 ? ERR_S3_ACCESS_DENIED : ERR_INVALID_SIGNATURE;
    case SIGV4_F_SKEWED:
        return s3 ? ERR_S3_REQUEST_TIME_TOO_SKEWED : ERR_INVALID_SIGNATURE;
    case SIGV4_F_MISSING_PAYLOAD_HASH:
        return s3 ? ERR_S3_INVALID_REQUEST : ERR_INCOMPLETE_SIGNATURE;
    case SIGV4_F_BAD_PAYLOAD_HASH:
        return s3 ? ERR_S3_INVALID_ARGUMENT : ERR_INCOMPLETE_SIGNATURE;
    case SIGV4_F_HEADERS_NOT_SIGNED:
        return s3 ? ERR_S3_ACCESS_DENIED : ERR_INVALID_SIGNATURE;
    case SIGV4_F_UNKNOWN_KEY:
        return s3 ? ERR_S3_INVALID_ACCESS_KEY_ID : ERR_UNRECOGNIZED_CLIENT;
    case SIGV4_F_BAD_TOKEN:
        return s3 ? ERR_S3_INVALID_TOKEN : ERR_UNRECOGNIZED_CLIENT;
    case SIGV4_F_EXPIRED_TOKEN:
        return s3 ? ERR_S3_EXPIRED_TOKEN : ERR_EXPIRED_TOKEN;
    case SIGV4_F_SIGNATURE_MISMATCH:
        return s3 ? ERR_S3_SIGNATURE_DOES_NOT_MATCH : ERR_INVALID_SIGNATURE;
    case SIGV4_F_BAD_CHUNK:
        return s3 ? ERR_S3_INCOMPLETE_BODY : ERR_SERIALIZATION;
    case SIGV4_OK:
    case SIGV4_F_INTERNAL:
    default:
        return s3 ? ERR_S3_INTERNAL_ERROR : ERR_INTERNAL_FAILURE;
    }
}

/* Appends one detail as an S3 <Error> element. */
static void put_detail(struct proto_sb *sb, const struct sigv4_detail *d)
{
    proto_sb_printf(sb, "<%s>", d->name);
    if (d->hex) {
        /* space-separated lower-hex pairs, as S3's *Bytes elements */
        for (size_t i = 0; i < d->len; i++) {
            char b[3];
            sigv4_hex(d->value + i, 1, b);
            b[2] = ' ';
            proto_sb_append(sb, b, i + 1 < d->len ? 3 : 2);
        }
    } else if (d->value) {
        proto_sb_xml_escape(sb, d->value, d->len);
    }
    proto_sb_printf(sb, "</%s>", d->name);
}

int proto_auth_error(struct proto_req *req, const struct sigv4_failure *f)
{
    int s3 = req->service && req->service->protocol == PROTO_REST_XML;
    if (s3)
        for (size_t i = 0; i < f->n_details && i < SIGV4_MAX_DETAILS; i++)
            put_detail(&req->err_extra, &f->details[i]);
    return proto_error(req, proto_auth_err(f, s3), "%s", f->message ? f->message : "");
}
