# Generates botocore-vectors.json: requests signed by botocore itself, replayed by test_botocore.c.
import json, datetime
from unittest import mock
import botocore.auth, botocore.credentials
from botocore.awsrequest import AWSRequest

creds = botocore.credentials.Credentials('AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')
fixed = datetime.datetime(2025, 1, 1, 12, 0, 0)
out = []

def capture(kind, auth, req, body=b''):
    req = req.prepare() if hasattr(req, 'prepare') else req
    from urllib.parse import urlsplit
    u = urlsplit(req.url)
    out.append({'name': kind, 'method': req.method, 'path': u.path, 'query': u.query,
                'headers': [[k.lower(), v if isinstance(v, str) else v.decode()] for k, v in req.headers.items()],
                'body': body.decode(), 'is_s3': 's3' in kind})

class FakeDT(datetime.datetime):
    @classmethod
    def utcnow(cls): return fixed
    @classmethod
    def now(cls, tz=None): return fixed if tz is None else fixed.replace(tzinfo=tz)

with mock.patch('botocore.auth.datetime.datetime', FakeDT):
    body = b'{"name": "demo"}'
    r = AWSRequest(method='POST', url='http://localhost:4566/', data=body,
                   headers={'X-Amz-Target': 'CodePipeline_20150709.GetPipeline',
                            'Content-Type': 'application/x-amz-json-1.1', 'User-Agent': 'aws-cli/1'})
    botocore.auth.SigV4Auth(creds, 'codepipeline', 'us-east-1').add_auth(r)
    capture('json-codepipeline', None, r, body)

    body = b'hello world'
    import hashlib
    r = AWSRequest(method='PUT', url='http://localhost:4566/my-bucket/dir/a%20b%2Bc~%21.txt', data=body,
                   headers={'Content-Type': 'text/plain', 'x-amz-meta-color': 'blue  green',
                            'X-Amz-Content-SHA256': hashlib.sha256(body).hexdigest()})
    botocore.auth.S3SigV4Auth(creds, 's3', 'eu-west-1').add_auth(r)
    capture('s3-put', None, r, body)

    r = AWSRequest(method='GET', url='http://localhost:4566/my-bucket?list-type=2&prefix=a%2Fb&encoding-type=url&delimiter=%2F', data=b'',
                   headers={'X-Amz-Content-SHA256': hashlib.sha256(b'').hexdigest()})
    botocore.auth.S3SigV4Auth(creds, 's3', 'us-east-1').add_auth(r)
    capture('s3-list', None, r)

    r = AWSRequest(method='GET', url='http://localhost:4566/my-bucket/some%20key.txt?versionId=3', data=b'')
    botocore.auth.S3SigV4QueryAuth(creds, 's3', 'us-east-1', expires=3600).add_auth(r)
    capture('s3-presigned', None, r)

print(json.dumps({'description': 'Requests signed by botocore %s (SigV4Auth, S3SigV4Auth, S3SigV4QueryAuth) at 2025-01-01T12:00:00Z with AKIAIOSFODNN7EXAMPLE; generated once, replayed by test_botocore.c' % __import__('botocore').__version__, 'now': '2025-01-01T12:00:00Z', 'requests': out}, indent=1))
