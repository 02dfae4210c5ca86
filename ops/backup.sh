#!/usr/bin/env bash
# Back up cpd: the database (pg_dump custom format) and the private files (evidence, imports, exports).
#   DATABASE_URL=postgres://... PRIVATE_MEDIA_ROOT=/data/private ops/backup.sh /backups/cpd-$(date +%F)
# With an S3-compatible store (CPD_MEDIA_STORAGE), back the bucket up by the store's own means
# (versioning and replication) instead: only the database is dumped here then.
set -euo pipefail
target="${1:?usage: ops/backup.sh TARGET_DIRECTORY}"
mkdir -p "$target"
# Custom format: compressed, restorable table by table, into a newer PostgreSQL too.
pg_dump --format=custom --no-owner --file="$target/cpd.dump" "${DATABASE_URL:?set DATABASE_URL}"
if [ -z "${CPD_MEDIA_STORAGE:-}" ]; then
  tar --create --gzip --file="$target/private.tar.gz" --directory="${PRIVATE_MEDIA_ROOT:?set PRIVATE_MEDIA_ROOT}" .
fi
# The dump is taken first: a file uploaded during the copy is in the archive without its row, which is
# harmless (an orphan file); the reverse (a row without its file) cannot happen.
sha256sum "$target"/* > "$target/SHA256SUMS"
echo "backup written to $target"
