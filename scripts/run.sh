#!/usr/bin/env bash
# The README's first quick-start command: installs what is missing, builds,
# and runs the main job on the embedded default: `worldpm info` (what this
# machine can run), then `worldpm demo`, which trains a small reward model on
# the built-in task on the CPU and reports its held-out pairwise accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The native library first, with CMake's own output, so a configure that fails says why (the bindings project
# would configure the same folder, but a quiet dotnet build shows only that the command failed).
cmake -S . -B build/native -DWORLDPM_TESTS=OFF
cmake --build build/native -j "$(nproc)" --target worldpm
dotnet build src/WorldPM.Cli -c Release -v quiet -nologo
dotnet run --project src/WorldPM.Cli -c Release --no-build -- info
dotnet run --project src/WorldPM.Cli -c Release --no-build -- demo
