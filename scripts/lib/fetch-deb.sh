# Sourced by scripts/fetch-labelme.sh and scripts/fetch-photos.sh: one Debian package extracted into a
# cache folder outside the repository (never committed), with `apt-get download` + `dpkg-deb -x`.
#   fetch_deb PACKAGE DEST   → DEST/root holds the package's files; DEST/.extracted marks it done
# Idempotent: does nothing when DEST is already extracted. apt-get download needs no root; the package
# lists may be stale on a fresh machine, so they are refreshed only when the first try fails (apt-get
# update needs root or sudo).
fetch_deb() {
  local pkg="$1" dest="$2"
  if [ -f "$dest/.extracted" ]; then
    echo "$pkg already extracted in $dest"
    return 0
  fi
  mkdir -p "$dest"
  (
    cd "$dest"
    if ! ls "${pkg}"_*.deb >/dev/null 2>&1; then
      if ! apt-get download "$pkg"; then
        echo "download failed; running apt-get update and retrying" >&2
        if [ "$(id -u)" = 0 ]; then apt-get update; else sudo apt-get update; fi
        apt-get download "$pkg"
      fi
    fi
    local deb
    deb=$(ls "${pkg}"_*.deb | head -n 1)
    dpkg-deb -x "$deb" "$dest/root"
    touch "$dest/.extracted"
    echo "extracted $deb into $dest/root"
  )
}
