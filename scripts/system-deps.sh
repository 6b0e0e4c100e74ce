#!/usr/bin/env bash
# Installs the system libraries Qt needs on Debian/Ubuntu when any is missing
# (SPEC §9). Does nothing where they are present, or where apt-get is not available;
# the app itself names whatever is still missing when it starts.
set -u
libs=(
  "libEGL.so.1 libegl1" "libGL.so.1 libgl1" "libxkbcommon.so.0 libxkbcommon0"
  "libfontconfig.so.1 libfontconfig1" "libglib-2.0.so.0 libglib2.0-0" "libdbus-1.so.3 libdbus-1-3"
  "libxcb-cursor.so.0 libxcb-cursor0" "libxcb-icccm.so.4 libxcb-icccm4"
  "libxcb-keysyms.so.1 libxcb-keysyms1" "libxcb-image.so.0 libxcb-image0"
  "libxcb-render-util.so.0 libxcb-render-util0" "libxcb-shape.so.0 libxcb-shape0"
  "libxcb-randr.so.0 libxcb-randr0" "libxcb-xinerama.so.0 libxcb-xinerama0"
  "libxkbcommon-x11.so.0 libxkbcommon-x11-0"
  "libpulse.so.0 libpulse0"  # QtMultimedia (scan sounds); without it, ui/sounds.py falls back
)
[ "$(uname -s)" = "Linux" ] || exit 0
known="$(ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true)"  # read once: cheap
missing=()
for pair in "${libs[@]}"; do
  set -- $pair
  [[ "$known" == *"$1 "* ]] || missing+=("$2")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Qt needs these system packages: ${missing[*]}"
command -v apt-get >/dev/null || { echo "Install them with your package manager."; exit 0; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null \
  || echo "Could not install ${missing[*]}; install them by hand."
exit 0
