#!/bin/sh
# Prints the udev rule that names the RS-485 adapter /dev/atm247-rs485 by its USB vendor, product
# and serial number, so the name survives replugging and other USB serial devices.
#
#   deploy/udev/rs485-rule.sh /dev/ttyUSB0                  # the adapter as plugged in now
#   deploy/udev/rs485-rule.sh --properties saved.txt        # from `udevadm info --query=property` output
#
# deploy/install.sh --rs485 /dev/ttyUSB0 writes it to /etc/udev/rules.d/99-atm247-rs485.rules.
# An adapter without a USB serial number (many CH340 cables) is matched by the USB port it is
# plugged into instead (ID_PATH): keep it in that port.
set -eu

NAME=atm247-rs485
if [ "${1:-}" = "--properties" ] && [ -n "${2:-}" ]; then
  props=$(cat "$2")
elif [ -n "${1:-}" ] && [ "${1#-}" = "$1" ]; then
  props=$(udevadm info --query=property --name="$1")
else
  echo "usage: $0 /dev/ttyUSBn | --properties FILE" >&2
  exit 64
fi

prop() { printf '%s\n' "$props" | sed -n "s/^$1=//p" | head -n 1; }

subsystem=$(prop SUBSYSTEM)
vendor=$(prop ID_VENDOR_ID)
product=$(prop ID_MODEL_ID)
serial=$(prop ID_SERIAL_SHORT)
path=$(prop ID_PATH)
model=$(prop ID_MODEL)
if [ "$subsystem" != "tty" ] || [ -z "$vendor" ] || [ -z "$product" ]; then
  echo "$0: not a USB serial adapter (SUBSYSTEM=$subsystem ID_VENDOR_ID=$vendor ID_MODEL_ID=$product)" >&2
  exit 65
fi
case "$vendor$product$serial$path" in
  *\"*|*\\*) echo "$0: refusing a property with a quote or backslash" >&2; exit 65 ;;
esac

echo "# RS-485 adapter of the ATM 24/7 controller: ${model:-USB serial} ($vendor:$product)."
echo "# Written by deploy/udev/rs485-rule.sh; the daemon opens /dev/$NAME (config/cabinet.yaml)."
if [ -n "$serial" ]; then
  echo "SUBSYSTEM==\"tty\", ATTRS{idVendor}==\"$vendor\", ATTRS{idProduct}==\"$product\", ATTRS{serial}==\"$serial\", SYMLINK+=\"$NAME\", GROUP=\"dialout\", MODE=\"0660\""
elif [ -n "$path" ]; then
  echo "# No USB serial number on this adapter: matched by the USB port it is plugged into."
  echo "SUBSYSTEM==\"tty\", ATTRS{idVendor}==\"$vendor\", ATTRS{idProduct}==\"$product\", ENV{ID_PATH}==\"$path\", SYMLINK+=\"$NAME\", GROUP=\"dialout\", MODE=\"0660\""
else
  echo "$0: the adapter has neither a USB serial number nor an ID_PATH" >&2
  exit 65
fi
