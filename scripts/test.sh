#!/usr/bin/env bash
# Builds everything from this checkout and runs every test: the native
# GoogleTest suite (CTest), its emulator suites again in a hardware-numerics
# build (build/emu-hw), and the managed NUnit suites, twice: on the cpu
# backend and on the emu backend (the CUDA kernels under the emulator, behind
# the same C ABI; WORLDPM_BACKEND=emu); the emulator's sanitizer builds (its
# tests and planted-bug probes under ThreadSanitizer and AddressSanitizer,
# build/native-tsan and build/native-asan); then packs the NuGet packages and
# builds and runs samples/EmbedInTrainer against them (scripts/check_package.sh,
# on the library built here, cpu backend). Also the libFuzzer targets for a bounded time (scripts/fuzz.sh,
# build/fuzz), and with --sanitize-native the native suite under AddressSanitizer and UBSan. Ends with one line
# "N passed, M failed" (", K skipped" when any were skipped), counted from the
# CTest JUnit reports, the TRX files and the package check's JUnit report (one
# case per step and per sample check), and exits non-zero on any failure or
# when no test ran.
#
#   scripts/test.sh           CPU build; CUDA objects too when nvcc is installed
#   scripts/test.sh --cuda    install the CUDA toolkit if missing and require it (CI does this)
#   scripts/test.sh --no-emu  skip the second managed pass on the emu backend (quicker, local only)
#   scripts/test.sh --no-sanitizers   skip the emulator's sanitizer builds (quicker, local only)
#   scripts/test.sh --sanitize-native also run the native suite under AddressSanitizer and UBSan (build/native-asan-lib;
#                             about 15 minutes more on 2 cores, so not part of the default run nor of CI)
#   scripts/test.sh --fresh-machine   also run the README's first command in a throw-away Debian 12 root
#                             (scripts/check_fresh_machine.sh --only run, counted; needs root; CI does this)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

cuda=AUTO
emu_pass=1
sanitizers=1
sanitize_native=0
fresh_machine=0
setup_args=()
for arg in "$@"; do
  case "$arg" in
    --cuda) cuda=ON; setup_args+=(--cuda) ;;
    --no-emu) emu_pass=0 ;;
    --no-sanitizers) sanitizers=0 ;;
    --sanitize-native) sanitize_native=1 ;;
    --fresh-machine) fresh_machine=1 ;;
    *) echo "test.sh: unknown argument '$arg' (expected --cuda, --no-emu, --no-sanitizers, --sanitize-native or --fresh-machine)" >&2
       exit 2 ;;
  esac
done
if [[ "${CI:-}" == "true" ]]; then cuda=ON; setup_args=(--cuda); emu_pass=1; sanitizers=1; fresh_machine=1; fi

# Whatever stops the script early (a failed install or build), the closing line is still printed,
# counting that step as one failure, so CI never ends without its "N passed, M failed".
summary_printed=0
trap 'status=$?; if (( ! summary_printed )); then echo "test.sh: stopped before the tests ran (exit $status)" >&2; echo "0 passed, 1 failed"; fi' EXIT

scripts/setup.sh "${setup_args[@]}"
command -v dotnet >/dev/null || { echo "test.sh: the .NET SDK (dotnet) is not on PATH" >&2; exit 1; }

results=$root/build/test-results
rm -rf "$results"
mkdir -p "$results"

# ccache (scripts/setup.sh installs it) lets the later builds (hardware numerics, sanitizers) reuse every object
# they share with this one instead of compiling the library again.
ccache_launcher=()
if command -v ccache >/dev/null; then ccache_launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

echo "== native build (WORLDPM_CUDA=$cuda)"
cmake -S . -B build/native -DWORLDPM_CUDA=$cuda -DWORLDPM_TESTS=ON "${ccache_launcher[@]}"
cmake --build build/native -j "$(nproc)"

echo "== native tests"
native_rc=0
ctest --test-dir build/native --output-on-failure -j "$(nproc)" --output-junit "$results/native.xml" || native_rc=$?

echo "== emulator tests in the hardware-numerics build (build/emu-hw)"
# The kernels with FMA contraction and modelled approximate math, mma with the tensor-core accumulation
# (docs/numerics.md, "Hardware-numerics emulator build"): its own build directory, only the native test binary
# and what it links, and only the emulator suites.
emu_hw_rc=0
{ cmake -S . -B build/emu-hw -DWORLDPM_CUDA=OFF -DWORLDPM_TESTS=ON -DWORLDPM_EMU_HARDWARE_NUMERICS=ON "${ccache_launcher[@]}" \
    && cmake --build build/emu-hw -j "$(nproc)" --target worldpm_native_tests \
    && ctest --test-dir build/emu-hw --output-on-failure -j "$(nproc)" -R '^Emu' --output-junit "$results/emu-hw.xml"
} || emu_hw_rc=$?
sanitizer_rc=0
sanitizer_builds_failed=0
if (( sanitizers )); then
  # Each: its own build directory, only the emulator and its tests instrumented (docs/emulator.md, "Sanitizer builds").
  for san in thread address; do
    echo "== the emulator under the ${san} sanitizer (build/native-${san:0:1}san)"
    dir=build/native-${san:0:1}san
    if cmake -S . -B "$dir" -DWORLDPM_CUDA=OFF -DWORLDPM_EMU_SANITIZE=$san "${ccache_launcher[@]}" && cmake --build "$dir" -j "$(nproc)"; then
      ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" --output-junit "$results/emu-$san.xml" || sanitizer_rc=$?
    else
      sanitizer_rc=1
      sanitizer_builds_failed=$((sanitizer_builds_failed + 1))
    fi
  done
fi

asan_rc=0
if (( sanitize_native )); then
  echo "== native tests under AddressSanitizer and UBSan (build/native-asan-lib)"
  # libworldpm.so and the native test binaries built with the sanitizers (cmake/Sanitize.cmake), any report
  # failing its test. Without the emu backend (no Boost.Context here): the emulator's own sanitizer builds
  # cover it, so the tests that need it are left out (Library.Emu*, and the collectives' tests, which run on
  # every backend; the stopped-rank tests, cpu only, stay); so is library.load_dependencies, since a sanitized library needs the sanitizers'
  # runtimes. No leak check: LeakSanitizer's exit-time scan crashes on OpenBLAS's threads.
  { cmake -S . -B build/native-asan-lib -DWORLDPM_CUDA=OFF -DWORLDPM_TESTS=ON -DWORLDPM_SANITIZE=ON -DWORLDPM_BENCH=OFF \
      -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON "${ccache_launcher[@]}" \
      && cmake --build build/native-asan-lib -j "$(nproc)" \
      && ASAN_OPTIONS=detect_leaks=0 ctest --test-dir build/native-asan-lib --output-on-failure -j "$(nproc)" \
           -E '^(library[.]load_dependencies|Library[.]Emu.*|comm[.](single|mpirun_np2))$' --output-junit "$results/native-asan.xml"
  } || asan_rc=$?
fi

echo "== fuzzing: the libFuzzer targets under ASan and UBSan (scripts/fuzz.sh, build/fuzz)"
fuzz_rc=0
scripts/fuzz.sh --junit "$results/fuzz.xml" || fuzz_rc=$?

echo "== managed build and tests (cpu backend)"
managed_rc=0
WORLDPM_BACKEND=cpu dotnet test WorldPM.sln -c Release --logger "trx" --results-directory "$results/managed" || managed_rc=$?
if (( emu_pass )); then
  echo "== managed tests again on the emu backend"
  # Convergence tests (hundreds of training steps) and tests of host code that does the same work on every backend
  # run in the cpu pass only: tests/Shared/Convergence.cs and BackendNeutral.cs say why.
  WORLDPM_BACKEND=emu dotnet test WorldPM.sln -c Release --no-build --filter "TestCategory!=Convergence&TestCategory!=BackendNeutral" \
    --logger "trx" --results-directory "$results/managed-emu" || managed_rc=$?
fi

echo "== NuGet packages consumed by samples/EmbedInTrainer"
# Packs the library built above (no second native build); in CI (--cuda) the package must carry the CUDA kernels.
package_rc=0
package_args=(--native-dir build/native --junit "$results/package.xml")
if [[ "$cuda" == ON ]]; then package_args+=(--require-cuda); fi
WORLDPM_BACKEND=cpu scripts/check_package.sh "${package_args[@]}" || package_rc=$?

fresh_rc=0
if (( fresh_machine )); then
  echo "== the README's first command on a fresh Debian 12 root (scripts/check_fresh_machine.sh --only run)"
  scripts/check_fresh_machine.sh --only run --junit "$results/fresh-machine.xml" || fresh_rc=$?
fi

# ---- count
passed=0 failed=0 skipped=0
attr() { grep -o "$1=\"[0-9]*\"" <<<"$2" | head -1 | grep -o '[0-9]*' || echo 0; }
for junit in "$results/native.xml" "$results/emu-hw.xml" "$results/emu-thread.xml" "$results/emu-address.xml" \
             "$results/native-asan.xml" "$results/fuzz.xml" \
             "$results/package.xml" "$results/fresh-machine.xml"; do
  [[ -f "$junit" ]] || continue
  suite=$(tr '\n\t' '  ' <"$junit" | grep -o '<testsuite [^>]*>' | head -1 || true)
  tests=$(attr tests "$suite"); fails=$(attr failures "$suite"); errs=$(attr errors "$suite")
  skips=$(( $(attr skipped "$suite") + $(attr disabled "$suite") ))
  passed=$((passed + tests - fails - errs - skips)); failed=$((failed + fails + errs)); skipped=$((skipped + skips))
done
# A check script that failed without a report saying so (it died before writing one) is still one failure.
report_failures() {
  [[ -f "$1" ]] || { echo 0; return; }
  attr failures "$(tr '\n\t' '  ' <"$1" | grep -o '<testsuite [^>]*>' | head -1 || true)"
}
if (( emu_hw_rc != 0 && $(report_failures "$results/emu-hw.xml") == 0 )); then failed=$((failed + 1)); fi
if (( asan_rc != 0 && $(report_failures "$results/native-asan.xml") == 0 )); then failed=$((failed + 1)); fi
if (( fuzz_rc != 0 && $(report_failures "$results/fuzz.xml") == 0 )); then failed=$((failed + 1)); fi
if (( package_rc != 0 && $(report_failures "$results/package.xml") == 0 )); then failed=$((failed + 1)); fi
if (( fresh_rc != 0 && $(report_failures "$results/fresh-machine.xml") == 0 )); then failed=$((failed + 1)); fi
failed=$((failed + sanitizer_builds_failed))  # a sanitizer build that did not build ran no test: one failure each
shopt -s nullglob
for trx in "$results"/managed/*.trx "$results"/managed-emu/*.trx; do
  counters=$(tr '\n\t' '  ' <"$trx" | grep -o '<Counters [^>]*>' | head -1 || true)
  p=$(attr passed "$counters"); f=$(attr failed "$counters"); e=$(attr error "$counters"); t=$(attr total "$counters")
  x=$(attr executed "$counters")
  passed=$((passed + p)); failed=$((failed + f + e)); skipped=$((skipped + t - x))
done

line="$passed passed, $failed failed"
(( skipped > 0 )) && line+=", $skipped skipped"
status=0
if (( native_rc != 0 || emu_hw_rc != 0 || sanitizer_rc != 0 || asan_rc != 0 || fuzz_rc != 0 || managed_rc != 0 || package_rc != 0 \
      || fresh_rc != 0 || failed > 0 )); then
  status=1
fi
if (( passed + failed == 0 )); then echo "test.sh: no test ran" >&2; status=1; fi
summary_printed=1
echo "$line"
exit $status
