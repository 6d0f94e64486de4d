#!/usr/bin/env bash
# Installs the Debian packages the local stack needs, only those missing:
# redis-server, PostgreSQL (for the metadata-store tests), a Java 17+ runtime, Maven, wrk (the
# HTTP load generator of the ingestion benchmark), and Chromium with its WebDriver (the console's
# browser tests).
# Idempotent; apt-get runs only when something is missing. Every failure is one line saying
# what is wrong and what to do.
set -euo pipefail

java_major() {  # the major version of the `java` on PATH, or 0
  local version
  version=$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}') || true
  version=${version#1.}  # "1.8.0_402" -> 8
  echo "${version%%[.-]*}" | grep -E '^[0-9]+$' || echo 0
}

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
if [ -z "${ANALYTICS_JAVA_HOME:-}" ] && { ! command -v java >/dev/null || [ "$(java_major)" -lt 17 ]; }; then
  missing+=(openjdk-17-jre-headless)  # Kafka 4 and Spark 4 need 17+; it becomes the default java
fi
command -v mvn >/dev/null || missing+=(maven)
command -v wrk >/dev/null || missing+=(wrk)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "error: missing ${missing[*]}, and installing them needs root: run 'apt-get install -y ${missing[*]}' as root, then make again" >&2
    exit 1
  fi
  sudo="sudo"
fi

echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Keep Debian's maintainer scripts from starting system-wide services: the stack runs its own.
policy=${POLICY_RC_D:-/usr/sbin/policy-rc.d}  # overridable for its tests only
created_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy"
  created_policy=1
fi
# An `if`, not `[ ... ] &&`: the trap's status becomes the script's under `set -e`, and a
# policy that was already there (as on Debian container images) must not fail the install.
cleanup() {
  if [ -n "$created_policy" ]; then $sudo rm -f "$policy"; fi
}
trap cleanup EXIT

apt_install() { $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; }
if ! apt_install; then
  $sudo apt-get update -q || true
  if ! apt_install; then
    echo "error: apt-get could not install ${missing[*]} (see above): check the machine's apt sources and network, then make again" >&2
    exit 1
  fi
fi
if [ -z "${ANALYTICS_JAVA_HOME:-}" ] && [ "$(java_major)" -lt 17 ]; then
  echo "error: java on PATH is still $(java_major) after installing openjdk-17: run 'update-alternatives --config java', or set ANALYTICS_JAVA_HOME to a JDK 17+" >&2
  exit 1
fi
