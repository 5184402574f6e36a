#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing and fuzzing edgelm
# needs, then the npm packages of the end-to-end tests (tests/e2e).
set -euo pipefail
repo_root="$(cd "$(dirname "$0")/.." && pwd)"

packages=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev
  libhwy-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libpcre2-dev libsentencepiece-dev sentencepiece libxxhash-dev libcpp-httplib-dev
  python3 python3-jinja2
  jq
  nodejs
)
# NodeSource's nodejs package contains npm and conflicts with Debian's npm
# package, so an npm already on the PATH counts as installed.
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The end-to-end tests fetch nothing at test time: the openai client version
# pinned in tests/e2e/package-lock.json is installed here.
echo "install-deps: npm ci in tests/e2e"
npm ci --prefix "$repo_root/tests/e2e" --prefer-offline --no-audit --no-fund --loglevel=error
