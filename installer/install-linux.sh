#!/usr/bin/env bash
# Installs the PyInstaller bundle (dist/Station) to /opt/station with a desktop entry.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d dist/Station ] || { echo "Build first: pyinstaller installer/station.spec --noconfirm"; exit 1; }
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo rm -rf /opt/station && $sudo cp -r dist/Station /opt/station
$sudo install -Dm644 installer/station.desktop /usr/share/applications/station.desktop
$sudo install -Dm644 station/resources/icons/station.svg /usr/share/icons/hicolor/scalable/apps/station.svg
$sudo ln -sf /opt/station/Station /usr/local/bin/station
echo "Installed: run 'station' or open Station from the applications menu."
