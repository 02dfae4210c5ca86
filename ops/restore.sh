#!/usr/bin/env bash
# Restore a backup made by ops/backup.sh into a NEW, empty database and private-files directory.
#   RESTORE_DATABASE_URL=postgres://.../cpd_restored PRIVATE_MEDIA_ROOT=/data/private-restored ops/restore.sh /backups/cpd-2026-11-30
# Then point DATABASE_URL / PRIVATE_MEDIA_ROOT at them, run `manage.py migrate` (applies nothing if the
# code is the backup's) and check /health/ready/.
set -euo pipefail
source_dir="${1:?usage: ops/restore.sh BACKUP_DIRECTORY}"
(cd "$source_dir" && sha256sum --check --quiet SHA256SUMS)
pg_restore --no-owner --exit-on-error --dbname="${RESTORE_DATABASE_URL:?set RESTORE_DATABASE_URL}" "$source_dir/cpd.dump"
if [ -f "$source_dir/private.tar.gz" ]; then
  mkdir -p "${PRIVATE_MEDIA_ROOT:?set PRIVATE_MEDIA_ROOT}"
  tar --extract --gzip --file="$source_dir/private.tar.gz" --directory="$PRIVATE_MEDIA_ROOT"
fi
echo "restored from $source_dir"
