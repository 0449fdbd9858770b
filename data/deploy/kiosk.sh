#!/usr/bin/env bash
# Kiosk launcher for a Linux board or wall PC: Chromium full screen on one screen URL, restarted if it dies.
# Usage: kiosk.sh "https://ruralbrain.example.gov.cn/screen/county?kiosk=1&screen=wall-01&token=…"
# (the address `ruralbrain screens register wall-01 --kind county --base-url https://…` printed, token included)
# Run it from the session's autostart (e.g. ~/.config/autostart) of an auto-login user.
set -u
url=${1:?usage: kiosk.sh URL}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
xset s off -dpms 2>/dev/null || true    # no screen saver, no power saving
while true; do
  "$browser" --kiosk --noerrdialogs --disable-infobars --disable-session-crashed-bubble \
    --disable-features=Translate --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --check-for-update-interval=31536000 \
    --autoplay-policy=no-user-gesture-required --overscroll-history-navigation=0 \
    --user-data-dir="$HOME/.ruralbrain-kiosk" "$url"
  sleep 5   # it died or was closed: start it again
done
