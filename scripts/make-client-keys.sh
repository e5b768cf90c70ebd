#!/bin/sh
# Generates the test-only signing keys of the real OTA clients into reference/keys/ (see its
# README.md): Mender's ECDSA P-256 key in SEC1 form (mender-artifact refuses PKCS#8), and
# self-signed X.509 certificates for RAUC bundles and SWUpdate's CMS signatures. For each, an
# `untrusted` twin that no robot trusts, for the wrong-key drills. Run once; the keys are
# committed so that artifacts stay reproducible. Rerunning replaces them all.
set -eu
dir=${1:-$(dirname "$0")/../reference/keys}
mkdir -p "$dir"
for who in test untrusted; do
  openssl ecparam -genkey -name prime256v1 -noout -out "$dir/mender-$who.key"
  openssl ec -in "$dir/mender-$who.key" -pubout -out "$dir/mender-$who.pub" 2>/dev/null
  for client in rauc swupdate; do
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 36500 \
      -subj "/O=fleetdrill test-only/CN=$client-$who" \
      -keyout "$dir/$client-$who.key" -out "$dir/$client-$who.cert.pem" 2>/dev/null
  done
done
echo "test-only client keys written to $dir"
