#!/usr/bin/env bash
# Installs the Debian packages the integration tests drive as real servers:
#   dovecot-imapd  a real IMAP server for the imap and mail_roundtrip probes
#   prometheus     promtool (metric lint, rule tests) and a real Prometheus for scrapes and the fire drill
#   prometheus-alertmanager  amtool (checks deploy/compose/alertmanager.yml) and a real Alertmanager for the
#                  fire drill (tests/integration/fire-drill.test.ts)
# Idempotent: skips apt when every package is already installed.
set -euo pipefail
packages=(dovecot-imapd prometheus prometheus-alertmanager openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: all present (${packages[*]})"
  exit 0
fi
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
# policy-rc.d stops Debian's maintainer scripts from starting the system services: tests start their own instances.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${sudo_cmd[@]}" chmod +x /usr/sbin/policy-rc.d
  trap '"${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
fi
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-test-deps: installed ${missing[*]}"
