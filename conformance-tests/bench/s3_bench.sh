#!/bin/sh
# S3 benchmarks: PutObject/GetObject of 1 MiB at 8 connections, and the peak RSS of the server
# during a single 1 GiB PutObject.
#
# Usage: conformance-tests/bench/s3_bench.sh [BINARY] [SECONDS] [--sync on|off]
#   BINARY defaults to build/codepipeline-local (build it with -DCMAKE_BUILD_TYPE=Release).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../build/codepipeline-local}
secs=${2:-5}
sync=${3:-on}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d /tmp/cpl-s3-bench-XXXXXX)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT

cc -O2 -o "$work/s3_bench" "$here/s3_bench.c" -lcrypto -lpthread

start() {
    rm -rf "$work/data"
    "$bin" --host 127.0.0.1 --port "$port" --data-dir "$work/data" --sync "$sync" >"$work/log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/_codepipeline-local/health" >/dev/null && break
        sleep 0.05
    done
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test python3 -c "
import boto3
boto3.client('s3', endpoint_url='http://127.0.0.1:$port', region_name='us-east-1').create_bucket(Bucket='bench')"
}
stop() {
    kill $pid
    wait $pid 2>/dev/null || true
}

echo "# server: $bin (--sync $sync), $(nproc) cores"
start
"$work/s3_bench" 127.0.0.1 "$port" bench put 1048576 8 "$secs"
"$work/s3_bench" 127.0.0.1 "$port" bench get 1048576 8 "$secs"
"$work/s3_bench" 127.0.0.1 "$port" bench mix 1048576 8 "$secs"
stop

start
before=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
"$work/s3_bench" 127.0.0.1 "$port" bench put 1073741824 1 0
after=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
echo "1 GiB PutObject: server peak RSS ${before} kB before, ${after} kB after (limit 65536 kB)"
stop
[ "$after" -lt 65536 ]

# the same through boto3's upload_file: multipart, 8 MiB parts, 10 threads, then Complete
start
truncate -s 1G "$work/gig.bin"
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test python3 -c "
import boto3, time
c = boto3.client('s3', endpoint_url='http://127.0.0.1:$port', region_name='us-east-1')
t = time.time()
c.upload_file('$work/gig.bin', 'bench', 'gig.bin')
print('1 GiB upload_file (multipart): %.1f s' % (time.time() - t))"
mp=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
echo "1 GiB multipart upload: server peak RSS ${mp} kB (limit 65536 kB)"
stop
[ "$mp" -lt 65536 ]
