#!/usr/bin/env bash
# The browser journeys need Debian's Chromium and a CJK font (without it,
# Japanese renders as empty boxes). Installs them when run as root on Debian;
# otherwise says what to install. Never downloads a browser of its own.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "The browser tests need: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
