#!/bin/sh
# Installs the controller on a cabinet PC (Debian or Raspberry Pi OS with systemd), from a checkout
# where `npm ci && npm run build` has run:
#
#   sudo deploy/install.sh [--rs485 /dev/ttyUSB0] [--kiosk]
#
# - the package in /opt/atm247 (dist/, config/, migrations/, production node_modules);
# - the system user atm247 (groups dialout for the RS-485 adapter, gpio where it exists);
# - /etc/atm247/atm247.env from deploy/atm247.env.example, if there is none yet;
# - atm247.service (and with --kiosk atm247-kiosk.service and the user atm247-kiosk), the journald
#   limits, and with --rs485 the udev rule naming that adapter /dev/atm247-rs485;
# - then enables and (re)starts the units.
#
# --root DIR lays the same files under DIR and stops there (no users, npm, systemctl or udevadm):
# for building an image, or to check the layout (test/deploy/units.test.ts verifies the units so).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
root=
rs485=
kiosk=no
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2; shift 2 ;;
    --rs485) rs485=$2; shift 2 ;;
    --kiosk) kiosk=yes; shift ;;
    *) echo "usage: $0 [--rs485 /dev/ttyUSBn] [--kiosk] [--root DIR]" >&2; exit 64 ;;
  esac
done

staged() { [ -n "$root" ]; }
if ! staged && [ "$(id -u)" -ne 0 ]; then
  echo "$0: run as root (sudo)" >&2
  exit 77
fi
if [ ! -f "$here/dist/src/main.js" ] || [ ! -d "$here/dist/ui" ]; then
  echo "$0: $here/dist is not built: run npm ci && npm run build first" >&2
  exit 66
fi

prefix=$root/opt/atm247
etc=$root/etc
echo "== package in $prefix"
mkdir -p "$prefix"
rm -rf "$prefix/dist" "$prefix/migrations"
cp -R "$here/dist" "$here/migrations" "$here/package.json" "$here/package-lock.json" "$here/README.md" "$prefix/"
mkdir -p "$prefix/deploy" "$prefix/docs"
cp -R "$here/deploy/." "$prefix/deploy/"
cp -R "$here/docs/." "$prefix/docs/"
# config/ may hold the site's own maps: replace the shipped files, keep any others.
mkdir -p "$prefix/config"
cp "$here"/config/*.yaml "$prefix/config/"
rm -f "$prefix/dist/.tsbuildinfo"

echo "== units, journald limits$( [ -n "$rs485" ] && echo ', udev rule')"
install -d "$etc/systemd/system" "$etc/systemd/journald.conf.d" "$etc/udev/rules.d" "$etc/atm247"
install -m 0644 "$here/deploy/systemd/atm247.service" "$etc/systemd/system/atm247.service"
if [ "$kiosk" = yes ]; then
  install -m 0644 "$here/deploy/systemd/atm247-kiosk.service" "$etc/systemd/system/atm247-kiosk.service"
fi
install -m 0644 "$here/deploy/journald/atm247.conf" "$etc/systemd/journald.conf.d/atm247.conf"
if [ -n "$rs485" ]; then
  "$here/deploy/udev/rs485-rule.sh" "$rs485" > "$etc/udev/rules.d/99-atm247-rs485.rules"
fi
if [ ! -f "$etc/atm247/atm247.env" ]; then
  install -m 0640 "$here/deploy/atm247.env.example" "$etc/atm247/atm247.env"
  echo "   wrote $etc/atm247/atm247.env: set DATABASE_URL, MQTT_URL and the tokens before the first start"
fi

if staged; then
  echo "== staged under $root (no users, npm, systemctl)"
  exit 0
fi

echo "== users"
if ! id atm247 >/dev/null 2>&1; then
  useradd --system --user-group --home-dir /var/lib/atm247 --no-create-home --shell /usr/sbin/nologin atm247
fi
usermod -a -G dialout atm247
if getent group gpio >/dev/null; then usermod -a -G gpio atm247; fi
chown root:atm247 "$etc/atm247/atm247.env"
if [ "$kiosk" = yes ] && ! id atm247-kiosk >/dev/null 2>&1; then
  useradd --system --user-group --create-home --home-dir /var/lib/atm247-kiosk-home --shell /usr/sbin/nologin \
    --groups video,input,render atm247-kiosk
fi

echo "== production dependencies"
(cd "$prefix" && npm ci --omit=dev --no-audit --no-fund)

echo "== systemd"
systemctl daemon-reload
systemctl restart systemd-journald
if [ -n "$rs485" ]; then
  udevadm control --reload
  udevadm trigger --subsystem-match=tty --action=add
fi
systemctl enable atm247.service
systemctl restart atm247.service
if [ "$kiosk" = yes ]; then
  systemctl enable atm247-kiosk.service
  systemctl restart atm247-kiosk.service
fi
systemctl --no-pager status atm247.service || true
