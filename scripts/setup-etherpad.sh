#!/usr/bin/env bash
# Installs a real Etherpad (ep_etherpad-lite from the npm registry) for planrun's
# flagship plan, and starts it.
#
#   scripts/setup-etherpad.sh            install (idempotent; offline once installed)
#   scripts/setup-etherpad.sh start      install if needed, then run Etherpad in the
#                                        foreground on 127.0.0.1:$ETHERPAD_PORT (default 9001)
#                                        with a throw-away database in a temp folder
#   scripts/setup-etherpad.sh path       print the install folder
#
# Environment: PLANRUN_ETHERPAD_DIR (install folder, default <repo>/.planrun/etherpad,
# git-ignored), ETHERPAD_PORT or PORT (default 9001), ETHERPAD_APIKEY (HTTP API key,
# default "planrun-local-api-key"; the server only listens on 127.0.0.1).
#
# Why the moves: Etherpad 1.8 finds its base folder by expecting its own package folder
# to be named `src`; a plain `npm install` leaves it in node_modules/ep_etherpad-lite and
# the server refuses to start ("Could not identity Etherpad base path"). So the package is
# moved to <base>/src and node_modules/ep_etherpad-lite points back at it.
set -euo pipefail

VERSION=1.8.14
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="${PLANRUN_ETHERPAD_DIR:-$repo/.planrun/etherpad}"
marker="$base/.planrun-installed-$VERSION"
apikey="${ETHERPAD_APIKEY:-planrun-local-api-key}"

log() { echo "setup-etherpad: $*" >&2; }

WARMUP='
const base = `http://127.0.0.1:${process.argv[1]}`;
const lib = "/javascripts/lib/ep_etherpad-lite/static/js/";
const paths = ["/p/planrun-warmup", "/static/js/require-kernel.js", "/static/js/l10n.js",
  "/static/js/vendors/html10n.js", "/static/skins/colibris/pad.js", "/static/skins/colibris/pad.css",
  "/static/css/pad.css", "/static/css/iframe_editor.css", "/socket.io/socket.io.js",
  "/pluginfw/plugin-definitions.json", "/locales.json",
  ...["pad.js", "ace2_common.js", "ace2_inner.js"].map((f) => `${lib}${f}?callback=require.define`)];
(async () => {
  const until = Date.now() + 120000;
  for (;;) {
    try { await (await fetch(base + "/")).text(); break; } catch { if (Date.now() > until) process.exit(1); }
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const p of paths) { try { await (await fetch(base + p, { headers: { "accept-encoding": "gzip" } })).arrayBuffer(); } catch {} }
  console.log(`planrun: Etherpad ready on ${base}`);
})();
'


write_package_json() {
  # Etherpad runs `npm ls` at start and refuses an "extraneous" ep_etherpad-lite: declare it.
  printf '{ "name": "planrun-etherpad", "private": true, "dependencies": { "ep_etherpad-lite": "%s" } }\n' "$VERSION" >"$base/package.json"
}

link_modules() {
  # Etherpad serves browser-side libraries (security, …) from src/node_modules, and its
  # plugin loader runs `npm ls` from <base>: lay it out like Etherpad's own repository,
  # dependencies in src/node_modules and node_modules/ep_etherpad-lite -> ../src.
  [ -L "$base/src/node_modules" ] && rm "$base/src/node_modules"
  if [ ! -d "$base/src/node_modules" ]; then
    mv "$base/node_modules" "$base/src/node_modules"
    rm -f "$base/src/node_modules/ep_etherpad-lite"
    mkdir "$base/node_modules"
    ln -s ../src "$base/node_modules/ep_etherpad-lite"
  fi
}

write_settings() {
  # ${VAR:default} is Etherpad's own substitution from the environment at start.
  cat >"$base/settings.json" <<'JSON'
{
  "title": "Etherpad (planrun)",
  "skinName": "colibris",
  "ip": "127.0.0.1",
  "port": "${ETHERPAD_PORT:9001}",
  "dbType": "dirty",
  "dbSettings": { "filename": "${PLANRUN_ETHERPAD_DB:var/dirty.db}" },
  "defaultPadText": "",
  "loglevel": "WARN",
  "suppressErrorsInPadText": true,
  "requireSession": false,
  "editOnly": false,
  "minify": true,
  "maxAge": 21600,
  "abiword": null,
  "soffice": null,
  "tidyHtml": null,
  "allowUnknownFileEnds": true,
  "requireAuthentication": false,
  "requireAuthorization": false,
  "trustProxy": false,
  "exposeVersion": false,
  "automaticReconnectionTimeout": 0,
  "commitRateLimiting": { "duration": 1, "points": 1000 },
  "importExportRateLimiting": { "windowMs": 90000, "max": 1000 },
  "users": {}
}
JSON
  printf '%s' "$apikey" >"$base/APIKEY.txt"
}

install() {
  if [ -f "$marker" ] && [ -f "$base/src/node/server.js" ]; then
    write_package_json
    link_modules
    write_settings
    return 0
  fi
  command -v npm >/dev/null || { log "npm is required (Node.js 20)"; exit 1; }
  log "installing ep_etherpad-lite@$VERSION into $base (about a minute, once)"
  rm -rf "$base"
  mkdir -p "$base"
  cd "$base"
  write_package_json
  # ueberdb2 lists sqlite3 as an optional dependency from GitHub, which only the npm
  # registry can reach here: npm's default retries wait 10 s then 60 s before giving it
  # up, twice (two minutes of a three-minute install). Short waits keep a retry for a
  # registry hiccup and give the unreachable one up in seconds (the dirty DB needs no sqlite3).
  npm install --no-audit --no-fund --loglevel=error --fetch-retries=2 --fetch-retry-mintimeout=1000 --fetch-retry-maxtimeout=3000
  mv node_modules/ep_etherpad-lite src
  link_modules
  mkdir -p var
  write_settings
  touch "$marker"
  log "installed; start it with: $0 start"
}

start() {
  install
  cd "$base"
  export ETHERPAD_PORT="${ETHERPAD_PORT:-${PORT:-9001}}"
  export NODE_ENV=production
  # Etherpad 1.8 asks static.etherpad.org for updates at start (a hard-coded URL, no
  # setting). Its HTTP client honours proxy variables: a closed local "proxy" keeps it home.
  export HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9
  export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
  db_dir="$(mktemp -d "${TMPDIR:-/tmp}/planrun-etherpad-XXXXXX")"
  export PLANRUN_ETHERPAD_DB="$db_dir/dirty.db"
  # Run in the background so the temp database is removed whichever way we stop.
  node src/node/server.js --settings settings.json &
  child=$!
  # Etherpad 1.8 stalls when several browsers ask for the same not-yet-cached script at
  # once: fetch the pad's scripts one by one first, then say it is ready (the plan's
  # `ready: { log: … }` waits for that line).
  node -e "$WARMUP" "$ETHERPAD_PORT" &
  warm=$!
  stop() { kill -TERM "$child" "$warm" 2>/dev/null || true; }
  trap stop TERM INT HUP
  status=0
  wait "$child" || status=$?
  wait "$child" 2>/dev/null || true
  kill -TERM "$warm" 2>/dev/null || true
  rm -rf "$db_dir"
  exit "$status"
}

case "${1:-install}" in
  install) install ;;
  start) start ;;
  path) echo "$base" ;;
  *) log "unknown command '$1' (use: install | start | path)"; exit 2 ;;
esac
