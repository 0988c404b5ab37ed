#!/usr/bin/env bash
# Proves the README's quick start on a fresh machine: builds a throw-away Debian 12 root with debootstrap,
# gives it this host's .NET SDK (read-only) and its network trust (CA certificates), copies the repository in
# (a clone of HEAD plus the working tree's uncommitted files, with no data folder beside it), and runs the
# README's two commands inside it as root: scripts/run.sh, then scripts/test.sh. Prints each step and how long
# it took; exits non-zero if either command fails. Run it before landing a change to the build, setup or
# packaging.
#
#   scripts/check_fresh_machine.sh [--work DIR] [--only run|test] [--junit FILE] [--keep] [--rebuild-base]
#
#   --work DIR       where the roots live (default: /var/tmp/worldpm-fresh). The pristine debootstrap root is
#                    kept there as base/ and copied for every check, so only the first check downloads it.
#   --only run|test  run one of the two commands (default: both, in README order)
#   --junit FILE     also write the outcome as JUnit XML, one test case per command (scripts/test.sh counts it);
#                    a failure before the commands ran (debootstrap, mounts) is one failed case
#   --keep           leave the check's root in place afterwards (to look inside; it is removed otherwise)
#   --rebuild-base   debootstrap the base again instead of reusing it
#
# Needs root (debootstrap, chroot, mounts). The Debian mirror is the one apt on this machine uses, read from
# its sources; nothing about this machine is written into the repository.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

work=/var/tmp/worldpm-fresh only="" junit="" keep=0 rebuild_base=0
while (( $# )); do
  case "$1" in
    --work) work=${2:?--work needs a folder}; shift ;;
    --only) only=${2:?--only needs run or test}; [[ $only == run || $only == test ]] ||
              { echo "check_fresh_machine.sh: --only takes run or test, not '$only'" >&2; exit 2; }; shift ;;
    --junit) junit=$(realpath -m "${2:?--junit needs a file}"); shift ;;
    --keep) keep=1 ;;
    --rebuild-base) rebuild_base=1 ;;
    *) echo "check_fresh_machine.sh: unknown argument '$1' (see the header of this script)" >&2; exit 2 ;;
  esac
  shift
done

[[ $(id -u) == 0 ]] || { echo "check_fresh_machine.sh: needs root (debootstrap, chroot and bind mounts)" >&2; exit 1; }

source "$repo/scripts/lib/junit.sh"
names=() results=() seconds=() messages=()
report_written=0

started=$SECONDS
# Whatever stops the check, its mounts go, its root goes (unless --keep), and --junit still gets a report.
root=$work/root
mounts=()
cleanup() {
  local status=$? i
  if [[ -n $junit ]] && (( ! report_written )); then
    names=("fresh root: setup before the README commands") results=(failed) seconds=($((SECONDS - started)))
    messages=("check_fresh_machine.sh stopped with exit $status before the commands ran")
    junit_write "$junit" check_fresh_machine "$((SECONDS - started))"
  fi
  for (( i=${#mounts[@]}-1; i>=0; i-- )); do umount -l "${mounts[i]}" 2>/dev/null || true; done
  if (( keep )); then echo "== kept the root at $root"
  # Never delete through a mount that is still there (the bind mounts reach this machine's /dev and /sys).
  elif grep -q " $root/" /proc/self/mounts; then echo "== left $root in place: something is still mounted under it" >&2
  else rm -rf "$root"; fi
}
trap cleanup EXIT

step_start=0
step() { step_start=$SECONDS; echo "== $*"; }
done_step() { echo "   done in $((SECONDS - step_start)) s"; }

# ---- the mirror apt uses here: deb822 sources first, then the one-line format
mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    uri=$(awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)/ {print u; exit}' "$f")
    [[ -n $uri ]] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    uri=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' "$f")
    [[ -n $uri ]] && { echo "$uri"; return; }
  done
}
debian_mirror=$(mirror)
[[ -n $debian_mirror ]] || { echo "check_fresh_machine.sh: no bookworm mirror found in /etc/apt/sources*" >&2; exit 1; }

dotnet_bin=$(command -v dotnet || true)
[[ -n $dotnet_bin ]] || { echo "check_fresh_machine.sh: the .NET SDK (dotnet) is not on PATH; the fresh root borrows it" >&2; exit 1; }
dotnet_root=$(dirname "$(readlink -f "$dotnet_bin")")

if ! command -v debootstrap >/dev/null; then
  step "installing debootstrap on this machine"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  done_step
fi

# ---- the pristine base: Debian 12 as a machine with the .NET SDK has it (the SDK's own run-time needs, git to
# clone with, CA certificates), nothing of WorldPM's build
base=$work/base
sdk_needs=ca-certificates,git,libicu72,libssl3,zlib1g,libstdc++6,libgcc-s1,tzdata
if (( rebuild_base )) || [[ ! -f $base/.complete ]]; then
  step "debootstrap bookworm into $base (mirror $debian_mirror)"
  rm -rf "$base"
  mkdir -p "$base"
  debootstrap --variant=minbase --include="$sdk_needs" bookworm "$base" "$debian_mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; echo "check_fresh_machine.sh: debootstrap failed (log: $work/debootstrap.log)" >&2; exit 1; }
  touch "$base/.complete"
  done_step
else
  echo "== reusing the base root $base (--rebuild-base makes it again)"
fi

# ---- this check's root: a copy of the base
step "copying the base to $root"
rm -rf "$root"
cp -a "$base" "$root"
done_step

bind() { # bind SOURCE TARGET [ro]
  mkdir -p "$2"
  mount --bind "$1" "$2"; mounts+=("$2")
  if [[ ${3:-} == ro ]]; then mount -o remount,bind,ro "$2"; fi
}
mount -t proc proc "$root/proc"; mounts+=("$root/proc")
bind /sys "$root/sys" ro
bind /dev "$root/dev"
mount -t devpts devpts "$root/dev/pts" 2>/dev/null && mounts+=("$root/dev/pts") || true
bind "$dotnet_root" "$root/usr/share/dotnet" ro
ln -sf /usr/share/dotnet/dotnet "$root/usr/bin/dotnet"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The network trust of this machine's user: any extra CA certificates its HTTPS (NuGet) relies on.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null 2>&1
fi

# ---- the repository: a clone of HEAD, then the working tree's uncommitted files over it; no data folder beside it
step "copying the repository (clone of HEAD + uncommitted files)"
dest=$root/home/worldpm/WorldPM
mkdir -p "$(dirname "$dest")"
git clone -q --no-hardlinks "$repo" "$dest"
changed=0
while IFS= read -r -d '' f; do
  [[ -e $repo/$f ]] || continue
  mkdir -p "$dest/$(dirname "$f")"
  cp -a "$repo/$f" "$dest/$f"
  changed=$((changed + 1))
done < <(cd "$repo" && git ls-files -z -m -o --exclude-standard)
echo "   $(cd "$dest" && git log -1 --format='%h %s' | cut -c1-80); $changed uncommitted file(s) copied over"
done_step

# ---- the README's two commands, as a fresh root user would type them
in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 \
    NUGET_CERT_REVOCATION_MODE="${NUGET_CERT_REVOCATION_MODE:-online}" \
    bash -c "cd /home/worldpm/WorldPM && $1"
}
failed=()
timings=()
for command in scripts/run.sh scripts/test.sh; do
  [[ -z $only || $command == "scripts/$only.sh" ]] || continue
  step "$command (log: $work/${command##*/}.log)"
  rc=0
  in_root "$command" >"$work/${command##*/}.log" 2>&1 || rc=$?
  tail -5 "$work/${command##*/}.log" | sed 's/^/   | /'
  timings+=("$command: $((SECONDS - step_start)) s, exit $rc")
  names+=("fresh Debian 12 root: $command") seconds+=($((SECONDS - step_start)))
  if (( rc == 0 )); then results+=(passed) messages+=(""); else
    failed+=("$command (exit $rc)") results+=(failed) messages+=("exit $rc; log: $work/${command##*/}.log"); fi
  done_step
done

if [[ -n $junit ]]; then junit_write "$junit" check_fresh_machine "$((SECONDS - started))"; report_written=1; fi
echo "== summary (total $((SECONDS - started)) s)"
printf '   %s\n' "${timings[@]}"
if (( ${#failed[@]} )); then
  echo "check_fresh_machine.sh: FAILED on a fresh Debian 12 root: ${failed[*]}" >&2
  exit 1
fi
echo "check_fresh_machine.sh: passed on a fresh Debian 12 root: ${timings[*]%%:*}"
