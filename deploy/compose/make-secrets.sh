#!/usr/bin/env bash
# Creates what deploy/compose/compose.yaml needs and must never be committed:
#   .env                      database, broker service, Grafana and JWT signing secrets (random)
#   secrets/ca/               a private CA (keep ca.key offline after the first run)
#   secrets/tls/              what the broker mounts: ca.crt, its server certificate (CN/SAN = $MQTT_HOSTNAME) and key
#   secrets/mosquitto/passwd  salted hashes for the service user, the control-room integration user
#                             and every device listed in DEVICES_FILE ("device-id secret" per line)
# Usage: MQTT_HOSTNAME=mqtt.example.org ./make-secrets.sh devices.txt
# Re-running keeps .env and the CA; it re-issues the server certificate and rebuilds the password file.
set -euo pipefail
cd "$(dirname "$0")"
devices=${1:?usage: make-secrets.sh DEVICES_FILE (lines: device-id secret)}
host=${MQTT_HOSTNAME:-localhost}
umask 077
mkdir -p secrets/ca secrets/tls secrets/mosquitto
chmod 0755 secrets secrets/tls secrets/mosquitto

rand() { openssl rand -base64 "$1" | tr -d '/+=\n' | cut -c1-"$2"; }
if [ ! -f .env ]; then
  {
    echo "POSTGRES_PASSWORD=$(rand 48 40)"
    echo "MQTT_SERVICE_PASSWORD=$(rand 48 40)"
    echo "MQTT_INTEGRATION_PASSWORD=$(rand 48 40)"
    echo "PROXIMITY_SIGNING_KEY=$(openssl rand -base64 48 | tr -d '\n')"
    echo "GRAFANA_ADMIN_PASSWORD=$(rand 24 20)"
  } > .env
  echo "make-secrets: wrote .env"
fi
# shellcheck disable=SC1091
. ./.env

if [ ! -f secrets/ca/ca.key ]; then
  openssl req -x509 -newkey rsa:4096 -sha256 -days 3650 -nodes -subj "/CN=Proximity device CA" \
    -keyout secrets/ca/ca.key -out secrets/ca/ca.crt 2>/dev/null
  echo "make-secrets: new CA in secrets/ca/ca.crt (install it on devices; keep ca.key offline)"
fi
cp secrets/ca/ca.crt secrets/tls/ca.crt
openssl req -newkey rsa:2048 -sha256 -nodes -subj "/CN=$host" \
  -keyout secrets/tls/server.key -out secrets/tls/server.csr 2>/dev/null
openssl x509 -req -in secrets/tls/server.csr -CA secrets/ca/ca.crt -CAkey secrets/ca/ca.key -CAcreateserial \
  -days 397 -sha256 -extfile <(printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$host") \
  -out secrets/tls/server.crt 2>/dev/null
rm -f secrets/tls/server.csr
echo "make-secrets: server certificate for $host, valid 397 days"

# mosquitto_passwd from the Debian package, or from the broker image.
passwd_tool() {
  if command -v mosquitto_passwd >/dev/null 2>&1; then mosquitto_passwd "$@";
  else docker run --rm -v "$PWD/secrets/mosquitto:/work" eclipse-mosquitto:2 mosquitto_passwd "${@/#secrets\/mosquitto\//\/work\/}"; fi
}
out=secrets/mosquitto/passwd
: > "$out"
passwd_tool -b "$out" proximity-service "$MQTT_SERVICE_PASSWORD"
passwd_tool -b "$out" integration-control-room "$MQTT_INTEGRATION_PASSWORD"
n=0
while read -r id secret _; do
  case "$id" in ''|'#'*) continue ;; esac
  case "$id" in *[!A-Za-z0-9._-]*) echo "make-secrets: device id '$id' has characters other than A-Z a-z 0-9 . _ -" >&2; exit 1 ;; esac
  case "$id" in proximity-service|integration-*) echo "make-secrets: '$id' is reserved" >&2; exit 1 ;; esac
  [ -n "${secret:-}" ] || { echo "make-secrets: device '$id' has no secret" >&2; exit 1; }
  passwd_tool -b "$out" "$id" "$secret"
  n=$((n + 1))
done < "$devices"
# The broker runs as uid 1883 in its image.
chmod 0644 secrets/tls/ca.crt secrets/tls/server.crt
chmod 0640 "$out" secrets/tls/server.key
chown 1883:1883 "$out" secrets/tls/server.key 2>/dev/null || echo "make-secrets: run as root or chown 1883 $out secrets/tls/server.key"
echo "make-secrets: $out with $n devices"
