#!/bin/bash
# Server CPU per in-memory TLS 1.3 handshake (ECDSA P-256, X25519; full and resumed) under two
# builds of OpenSSL: the system's libssl/libcrypto, and the one statically linked into `node`
# (the same C code, loaded into node with process.dlopen).  Alternating repetitions, medians.
#
#   benchmarks/openssl_build/run.sh [REPS=8] [HANDSHAKES=400]
#
# With OWN_OPENSSL=DIR, a third build is timed beside them: an OpenSSL source tree in DIR,
# configured and built as static libraries (DIR/libssl.a, DIR/libcrypto.a), e.g.
#   ./Configure linux-x86_64 no-shared no-tests no-ktls no-comp -O3 -fPIC && make build_libs
# the same C program statically linked to it (label "own").
#
# Needs gcc, the OpenSSL 3 headers (Debian: libssl-dev), node and python3.  See
# benchmarks/README.md, "Which OpenSSL".
set -euo pipefail
reps=${1:-8}; n=${2:-400}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
gcc -O2 -o "$tmp/system" "$here/handshakes.c" -lssl -lcrypto
gcc -O2 -shared -fPIC -DAS_SO -o "$tmp/in_node.so" "$here/handshakes.c"
own=${OWN_OPENSSL:-}
if [ -n "$own" ]; then
  gcc -O2 -I"$own/include" -o "$tmp/own" "$here/handshakes.c" "$own/libssl.a" "$own/libcrypto.a" \
    -lpthread -ldl
fi
echo "process.dlopen({exports: {}}, process.argv[2]);" > "$tmp/load.js"
pin=(); command -v taskset >/dev/null && pin=(taskset -c "$(( $(nproc) - 1 ))")
export HS_CERT="$tmp/cert.pem" HS_KEY="$tmp/key.pem" HS_N="$n"
echo "system OpenSSL: $(openssl version); node's: $(node -p process.versions.openssl)" >&2
for _ in $(seq "$reps"); do
  HS_LABEL=system "${pin[@]}" "$tmp/system"
  # dlopen fails after the constructor ran (the object is no Node addon): that is expected.
  HS_LABEL=node "${pin[@]}" node "$tmp/load.js" "$tmp/in_node.so" 2>/dev/null || true
  if [ -n "$own" ]; then HS_LABEL=own "${pin[@]}" "$tmp/own"; fi
done | python3 -c '
import collections, re, statistics, sys
runs = collections.defaultdict(list)
for line in sys.stdin:
    m = re.match(r"(\w+) (full|resumed): ([\d.]+) us .*\((\d+)/(\d+) resumed\)", line)
    if not m:
        continue
    label, mode, us, got, n = m.groups()
    if (mode == "resumed") != (got == n):
        sys.exit(f"{label} {mode}: {got}/{n} resumed")
    runs[(label, mode)].append(float(us))
for mode in ("full", "resumed"):
    a, b = runs[("system", mode)], runs[("node", mode)]
    if not a or not b:
        sys.exit(f"no {mode} figures (system {len(a)}, node {len(b)})")
    own = runs.get(("own", mode))
    extra = (f"; own build {statistics.median(own):.1f} us, ratio to node"
             f" {statistics.median(own) / statistics.median(b):.3f}" if own else "")
    print(f"{mode}: system {statistics.median(a):.1f} us, node {statistics.median(b):.1f} us per handshake,"
          f" ratio {statistics.median(a) / statistics.median(b):.3f} ({len(a)} reps){extra}")
'
