#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine with the .NET SDK lacks to build and
# test WorldPM, and only what is missing. Used by the README, .ci/run and the tests.
#
#   scripts/setup.sh            CPU build needs (make, pkg-config, compilers, ccache for the test script's several builds, clang's sanitizer and libFuzzer runtimes, unzip for the package check, BLAS, oneDNN, Boost.Context, MPI, GoogleTest, PyTorch for the reference-model test)
#   scripts/setup.sh --cuda     also the CUDA toolkit (Debian non-free, nvcc 11.8)
#
# As root it installs with apt-get; otherwise it names the missing packages and exits 1.
set -euo pipefail

want_cuda=0
for arg in "$@"; do
  case "$arg" in
    --cuda) want_cuda=1 ;;
    *) echo "setup.sh: unknown argument '$arg' (expected --cuda)" >&2; exit 2 ;;
  esac
done

packages=(cmake make pkgconf gcc g++ ccache clang-14 libclang-rt-14-dev unzip libopenblas-dev libdnnl-dev libboost-context-dev libopenmpi-dev openmpi-bin libgtest-dev python3-torch)
[[ $want_cuda == 1 ]] && packages+=(nvidia-cuda-toolkit)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [[ ${#missing[@]} == 0 ]]; then
  echo "setup.sh: all build dependencies present"
  exit 0
fi

if [[ $(id -u) != 0 ]]; then
  echo "setup.sh: missing packages: ${missing[*]} (run this script as root, or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

# The CUDA toolkit lives in Debian's contrib/non-free components, which a stock image leaves out.
if [[ " ${missing[*]} " == *" nvidia-cuda-toolkit "* ]]; then
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    sed -i -E '/^Components:/{/non-free( |$)/!s/$/ contrib non-free/}' /etc/apt/sources.list.d/debian.sources
  elif [[ -f /etc/apt/sources.list ]]; then
    sed -i -E '/^deb /{/non-free( |$)/!s/$/ contrib non-free/}' /etc/apt/sources.list
  fi
fi

echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup.sh: installed ${missing[*]}"
