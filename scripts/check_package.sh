#!/usr/bin/env bash
# Packs the NuGet packages and consumes them as an outside project would:
#
#   1. pack WorldPM.Native (bindings + runtimes/linux-x64/native/libworldpm.so) and WorldPM (the training
#      library, which depends on the WorldPM.Native package) in Release, into a fresh folder feed;
#   2. check their contents: the files, licence, readme, symbols packages, the version of version.txt, the
#      dependency of WorldPM on WorldPM.Native, and that the packed libworldpm.so is byte for byte the one in
#      the native build folder (with CUDA kernels in it when --require-cuda);
#   3. restore samples/EmbedInTrainer, copied outside the repo, into an EMPTY packages folder through its own
#      NuGet.config (WorldPM* only from that feed; their third-party dependencies from this machine's global
#      packages folder, where packing WorldPM has just put them), and check where each WorldPM package came from;
#   4. build it and run it: it checks GELU, causal attention, last-token pooling and the Bradley-Terry loss against
#      its own float64 reference and trains a tiny reward model (WORLDPM_BACKEND picks the backend; cpu if unset).
#
# The native library is NOT rebuilt: this packs the libworldpm.so already in the native build folder (scripts/test.sh
# built it just before; by hand: cmake -S . -B build/native && cmake --build build/native --target worldpm).
#
#   scripts/check_package.sh [--native-dir DIR] [--require-cuda] [--junit FILE] [--keep]
#
#   --native-dir DIR  the CMake build folder holding libworldpm.so (default build/native)
#   --require-cuda    fail unless the packed library carries CUDA kernels (CI, where test.sh builds with nvcc)
#   --junit FILE      also write the outcome as JUnit XML: one test case per step and per sample check
#   --keep            keep the temporary folder (it is kept anyway when something failed)
#
# Prints each step with its time and ends with one line "check_package: PASS ..." or "check_package: FAIL ...";
# exits 0 on pass, 1 on failure, 2 on a bad argument.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source "$root/scripts/lib/junit.sh"

native_dir=$root/build/native
require_cuda=0
junit=""
keep=0
while (( $# )); do
  case "$1" in
    --native-dir) native_dir=$(realpath -m "${2:?--native-dir needs a folder}"); shift ;;
    --require-cuda) require_cuda=1 ;;
    --junit) junit=$(realpath -m "${2:?--junit needs a file}"); shift ;;
    --keep) keep=1 ;;
    *) echo "check_package.sh: unknown argument '$1' (see the header of this script)" >&2; exit 2 ;;
  esac
  shift
done

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
version=$(tr -d '[:space:]' <version.txt)
library=$native_dir/libworldpm.so
tmp=$(mktemp -d -t worldpm-package.XXXXXX)
feed=$tmp/samples/feed          # samples/NuGet.config names "feed" beside itself
packages=$tmp/packages          # empty: every package the sample uses is restored into it afresh
sample=$tmp/samples/EmbedInTrainer
logs=$tmp/logs
mkdir -p "$logs"

# ---- bookkeeping: each step and each sample check is one JUnit test case
names=() results=() seconds=() messages=()
record() { names+=("$1"); results+=("$2"); seconds+=("$3"); messages+=("${4:-}"); }
failed_any=0
started=$EPOCHREALTIME
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# step NAME COMMAND...: runs the command with its output in logs/NAME.log; prints "ok" or "FAIL" with the time and,
# on failure, the end of the log (unless show_tail=0: the caller prints the whole log). After a failure the remaining
# steps are recorded as skipped, not run.
show_tail=1
step() {
  local name=$1; shift
  if (( failed_any )); then
    echo "-- $name: skipped (an earlier step failed)"
    record "$name" skipped 0
    return 1
  fi
  echo "-- $name"
  local t0=$EPOCHREALTIME log="$logs/${name// /-}.log" rc=0
  "$@" >"$log" 2>&1 || rc=$?
  local took; took=$(elapsed "$t0")
  if (( rc == 0 )); then
    echo "   ok ($took s)"
    record "$name" passed "$took"
  else
    echo "   FAIL ($took s, exit $rc)"
    if (( show_tail )); then echo "   the end of $log:"; tail -n 40 "$log" | sed 's/^/   | /'; fi
    record "$name" failed "$took" "exit $rc; see $log"
    failed_any=1
  fi
  return $rc
}

# ---- the steps

# A copy of samples/ outside the repo: nothing of the repo (its Directory.Build.props, build outputs, a feed packed by
# hand into samples/feed) can reach the sample; the packages go into the copy's own empty feed.
copy_sample() {
  cp -r samples "$tmp/" &&
    rm -rf "$tmp"/samples/*/bin "$tmp"/samples/*/obj "$feed" &&
    mkdir -p "$feed" &&
    find "$tmp/samples" -type f | sed "s|^$tmp/||"
}

need_library() {
  local tool
  for tool in dotnet unzip readelf cmp; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed (unzip: apt-get install unzip; readelf: binutils)"; return 1; }
  done
  if [[ ! -f "$library" ]]; then
    echo "no native library at $library: build it first (cmake -S . -B build/native && cmake --build build/native --target worldpm, or scripts/test.sh), or pass --native-dir"
    return 1
  fi
  echo "packing $library ($(stat -c %s "$library") bytes, built $(date -r "$library" '+%F %T'))"
  # Run by hand after editing native code, this would pack the library of before the edit: say so (test.sh has just
  # built it, so there this never shows).
  local newer; newer=$(find native kernels -type f -newer "$library" 2>/dev/null | head -n 3 || true)
  if [[ -n "$newer" ]]; then
    echo "WARNING: newer than the library, so not in the package: $(tr '\n' ' ' <<<"$newer")(rebuild: cmake --build $native_dir --target worldpm)"
  fi
}

pack() {
  # WORLDPM_SKIP_NATIVE_BUILD: the bindings project packs the library as it is instead of running CMake again.
  WORLDPM_SKIP_NATIVE_BUILD=1 dotnet pack "$1" -c Release -o "$feed" -p:WorldPMNativeBuildDir="$native_dir/"
}

# The contents of both packages, listed and checked.
check_contents() {
  local ok=1 native=$feed/WorldPM.Native.$version.nupkg training=$feed/WorldPM.$version.nupkg pkg entry
  fail() { echo "MISSING/WRONG: $*"; ok=0; }
  for pkg in "$native" "${native%.nupkg}.snupkg" "$training" "${training%.nupkg}.snupkg"; do
    [[ -f "$pkg" ]] || { fail "$(basename "$pkg") was not made (the version comes from version.txt: $version)"; continue; }
    echo "$(basename "$pkg"):"
    unzip -Z1 "$pkg" | grep -v -e '^_rels/' -e '^package/' -e '^\[Content_Types\]' | sed 's/^/    /'
  done
  (( ok )) || return 1
  # has PACKAGE ENTRY: the listing is read whole first; `unzip | grep -q` would fail under pipefail whenever grep
  # stops early and unzip dies of SIGPIPE.
  has() { local listing; listing=$(unzip -Z1 "$1") && grep -qx -- "$2" <<<"$listing"; }
  for entry in README.md lib/net10.0/WorldPM.Native.dll lib/net10.0/WorldPM.Native.xml runtimes/linux-x64/native/libworldpm.so; do
    has "$native" "$entry" || fail "WorldPM.Native lacks $entry"
  done
  for entry in README.md lib/net10.0/WorldPM.Training.dll; do
    has "$training" "$entry" || fail "WorldPM lacks $entry"
  done
  has "${native%.nupkg}.snupkg" lib/net10.0/WorldPM.Native.pdb || fail "WorldPM.Native.snupkg lacks the pdb"
  has "${training%.nupkg}.snupkg" lib/net10.0/WorldPM.Training.pdb || fail "WorldPM.snupkg lacks the pdb"
  for pkg in "$native" "$training"; do
    local nuspec; nuspec=$(unzip -p "$pkg" '*.nuspec')
    grep -q '<license type="expression">MIT</license>' <<<"$nuspec" || fail "$(basename "$pkg"): no MIT licence expression"
    grep -q '<readme>README.md</readme>' <<<"$nuspec" || fail "$(basename "$pkg"): no readme"
    grep -q "<version>$version</version>" <<<"$nuspec" || fail "$(basename "$pkg"): version is not $version"
  done
  grep -q "<dependency id=\"WorldPM.Native\" version=\"$version\"" <<<"$(unzip -p "$training" WorldPM.nuspec)" ||
    fail "WorldPM does not depend on the WorldPM.Native package $version"

  # The library in the package must be the one this build made, not a stale copy from elsewhere.
  local packed=$tmp/packed-libworldpm.so
  unzip -p "$native" runtimes/linux-x64/native/libworldpm.so >"$packed"
  if cmp -s "$packed" "$library"; then
    echo "runtimes/linux-x64/native/libworldpm.so is byte for byte $library"
  else
    fail "the packed libworldpm.so differs from $library"
  fi
  # nvcc puts the device code of the kernels (the fat binaries) in the .nv_fatbin section.
  local sections; sections=$(readelf -S --wide "$packed")
  if grep -q '\.nv_fatbin' <<<"$sections"; then
    echo "the packed library carries CUDA kernels (.nv_fatbin section)"
  elif (( require_cuda )); then
    fail "the packed library has no CUDA kernels (no .nv_fatbin section), and --require-cuda asks for them"
  else
    echo "the packed library has no CUDA kernels (built without nvcc); the cpu and emu backends only"
  fi
  (( ok ))
}

restore_sample() {
  # The sample's NuGet.config takes the third-party dependencies from $HOME/.nuget/packages; NUGET_PACKAGES moves the
  # global packages folder, so packing would have put them somewhere that config does not look.
  local global; global=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
  if [[ "$(realpath -m "$global")" != "$(realpath -m "$HOME/.nuget/packages")" ]]; then
    echo "the global packages folder is $global, not $HOME/.nuget/packages where samples/NuGet.config looks (unset NUGET_PACKAGES)"
    return 1
  fi
  dotnet restore "$sample" --packages "$packages" -p:WorldPMVersion="$version" || return 1
  echo "restored into the empty $packages: $(ls "$packages" | tr '\n' ' ')"
  # NuGet records where each package came from; both WorldPM packages must be the ones just packed.
  local id meta
  for id in worldpm worldpm.native; do
    meta=$packages/$id/$version/.nupkg.metadata
    [[ -f "$meta" ]] || { echo "$id $version was not restored"; return 1; }
    grep -q "\"source\": \"${feed%/}/\?\"" "$meta" || { echo "$id came from elsewhere than $feed:"; cat "$meta"; return 1; }
    echo "$id $version restored from $feed"
  done
}

build_sample() { dotnet build "$sample" --no-restore -c Release -p:WorldPMVersion="$version"; }

run_sample() {
  # WORLDPM_NATIVE_PATH would make the bindings load a library other than the packaged one: unset it.
  env -u WORLDPM_NATIVE_PATH dotnet "$sample/bin/Release/net10.0/EmbedInTrainer.dll"
}

echo "== NuGet packages $version, consumed by samples/EmbedInTrainer (work folder $tmp)"
step "native library" need_library && grep -E '^(packing|WARNING)' "$logs/native-library.log" | sed 's/^/   /'
step "copy sample" copy_sample
step "pack WorldPM.Native" pack bindings/WorldPM.Native/WorldPM.Native.csproj
step "pack WorldPM" pack src/WorldPM/WorldPM.csproj
step "package contents" check_contents && sed 's/^/   /' "$logs/package-contents.log"
step "restore sample" restore_sample && grep -E '^(restored|worldpm)' "$logs/restore-sample.log" | sed 's/^/   /'
step "build sample" build_sample
show_tail=0
step "run sample" run_sample
if [[ -f "$logs/run-sample.log" ]]; then
  sed 's/^/   | /' "$logs/run-sample.log"
  # Each PASS/FAIL line of the sample is one test case of its own.
  while IFS= read -r line; do
    name=${line#* }; name=${name%%:*}; detail=${line#*: }
    if [[ $line == PASS* ]]; then record "sample: $name" passed 0; else record "sample: $name" failed 0 "$detail"; fi
  done < <(grep -E '^(PASS|FAIL) [^:]+:' "$logs/run-sample.log")
  if (( require_cuda )); then
    if grep -qE '^backends built: .*\bcuda\b' "$logs/run-sample.log"; then record "sample: cuda backend built" passed 0
    else record "sample: cuda backend built" failed 0 "the packaged library says it was built without cuda"; failed_any=1; fi
  fi
fi

# ---- outcome
total=$(elapsed "$started")
n_passed=0 n_failed=0 n_skipped=0
for r in "${results[@]}"; do
  case "$r" in passed) ((++n_passed)) ;; failed) ((++n_failed)) ;; skipped) ((++n_skipped)) ;; esac
done
[[ -z "$junit" ]] || junit_write "$junit" check_package "$total"

# Worded so that it never reads as a test runner's closing "N passed, M failed" line (test.sh prints that one).
if (( n_failed == 0 && n_skipped == 0 && failed_any == 0 )); then
  (( keep )) || rm -rf "$tmp"
  echo "check_package: PASS: $n_passed steps and sample checks in $total s (WorldPM $version, backend ${WORLDPM_BACKEND:-cpu})"
  exit 0
fi
echo "check_package: FAIL: $n_failed of ${#names[@]} steps and sample checks failed, $n_skipped skipped, in $total s; logs in $logs"
exit 1
