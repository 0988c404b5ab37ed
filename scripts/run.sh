#!/usr/bin/env bash
# The README's first quick-start command: installs what is missing, builds,
# and runs the main job on the embedded default. Until the training issue
# lands, that is `worldpm info` (what this machine can run) and a short op demo
# on the CPU backend.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
dotnet build src/WorldPM.Cli -c Release -v quiet -nologo
dotnet run --project src/WorldPM.Cli -c Release --no-build -- info
dotnet run --project src/WorldPM.Cli -c Release --no-build -- demo
