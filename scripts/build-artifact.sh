#!/usr/bin/env bash
# Builds the deployable artifact into OUT_DIR (default ./artifact): the compiled server and
# worker, the SQL migrations, package.json and the lockfile, and production dependencies
# only (no TypeScript, no test tools, no embedded PostgreSQL). The Dockerfile runs this in
# its build stage, and backend/tests/artifact.test.ts runs it too, so the recipe is tested.
#
#   scripts/build-artifact.sh [--skip-build] [OUT_DIR]
#   cd OUT_DIR && NODE_ENV=production DATABASE_URL=… JWT_SECRET=… GEMINI_API_KEY=… npm run start:prod
#
# Needs the full (development) install in the checkout, for tsc: run `npm ci` first.
# --skip-build uses backend/dist as it is (the test suite has just built it, and other
# test files run servers from it meanwhile).
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
if [ "${1:-}" = "--skip-build" ]; then
  build=0
  shift
fi
out="${1:-artifact}"

if [ "$build" = 1 ]; then
  echo "build-artifact: compiling" >&2
  npm run build --silent
fi

echo "build-artifact: assembling $out" >&2
rm -rf "$out"
mkdir -p "$out/backend"
cp package.json package-lock.json .npmrc .nvmrc "$out/"
cp -R backend/dist backend/drizzle "$out/backend/"
rm -f "$out/backend/dist/.tsbuildinfo"

echo "build-artifact: production dependencies only" >&2
(cd "$out" && npm ci --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error)

echo "build-artifact: done ($(du -sh "$out" | cut -f1))" >&2
