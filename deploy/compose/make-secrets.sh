#!/usr/bin/env bash
# Writes deploy/compose/secrets.env (or the file named) with fresh random keys, once: it refuses
# to overwrite, because a new MEDOFFICE_PHI_KEK makes every sealed patient record unreadable and
# a new MEDOFFICE_LEDGER_KEY breaks the audit ledger's seal (and a new
# MEDOFFICE_AUDIT_SIGNING_KEY no longer matches the public key auditors pinned). Keep a copy somewhere safe.
set -euo pipefail

OUT=${1:-$(dirname "${BASH_SOURCE[0]}")/secrets.env}
if [[ -e $OUT ]]; then
	echo "make-secrets.sh: $OUT exists; not overwriting its keys" >&2
	exit 1
fi
key() { # base64 of N random bytes, from the kernel's CSPRNG
	head -c "$1" /dev/urandom | base64 | tr -d '\n'
}
umask 077
cat >"$OUT" <<-SECRETS
	# The secrets of docker-compose.yml, written by deploy/compose/make-secrets.sh. Never commit it.
	MEDOFFICE_JWT_SECRET=$(key 48)
	MEDOFFICE_PHI_KEK=$(key 32)
	MEDOFFICE_LEDGER_KEY=$(key 32)
	MEDOFFICE_AUDIT_SIGNING_KEY=$(key 32)
SECRETS
echo "make-secrets.sh: wrote $OUT" >&2
