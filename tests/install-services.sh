#!/usr/bin/env bash
# Installs, from Debian's packages, the real services the tests use. Idempotent and quiet when present.
# The tests start their own private instances on free loopback ports; nothing here is left running.
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto mosquitto-clients)
# Headless Chromium (and its driver) for the web page tests; Playwright is pointed at /usr/bin/chromium.
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || need+=(chromium chromium-driver)
# PostGIS is two packages (the library, and the scripts with postgis.control): check both halves.
[ -x /usr/lib/postgresql/15/bin/initdb ] && [ -f /usr/share/postgresql/15/extension/postgis.control ] \
  && [ -f /usr/lib/postgresql/15/lib/postgis-3.so ] || need+=(postgresql-15 postgresql-15-postgis-3)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "install-services: need root to install ${need[*]}" >&2; exit 1; fi
  echo "install-services: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian starts the packaged services on install; the tests use their own instances.
systemctl stop mosquitto postgresql >/dev/null 2>&1 || true
pkill -f "mosquitto -c /etc/mosquitto/mosquitto.conf" >/dev/null 2>&1 || true
exit 0
