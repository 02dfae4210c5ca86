"""Migration operations that keep a big table writable while it is indexed.

A plain `CREATE INDEX` holds a lock that blocks every insert and update of the table until the index
is built: at 1,500,000 teachers an index on the declarations took about 10 s, during which no teacher
could submit and no reviewer approve. On PostgreSQL these operations build (and drop) the index
`CONCURRENTLY`, which lets writes go on; on other databases (SQLite, small deployments) they do what
`AddIndex` and `RemoveIndex` do. The migration state is the same as theirs.

`CONCURRENTLY` cannot run in a transaction: a migration using these sets `atomic = False`, and holds
only index operations, so that a failure cannot leave half a schema change behind. If a concurrent
build fails (a duplicate in a unique index, a cancelled statement), PostgreSQL leaves an invalid
index of that name: drop it and migrate again (docs/operations.md, "Migrations on a big database").
"""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.migrations.operations import AddIndex, RemoveIndex


def _concurrently(schema_editor) -> bool:
    if schema_editor.connection.vendor != "postgresql":
        return False
    if schema_editor.connection.in_atomic_block:
        raise NotSupportedError("a concurrent index operation needs a migration with atomic = False")
    return True


class AddIndexConcurrently(AddIndex):
    """`AddIndex`, built with `CREATE INDEX CONCURRENTLY` on PostgreSQL."""

    def describe(self):
        return f"Create index {self.index.name} on {self.model_name} (concurrently on PostgreSQL)"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, **({"concurrently": True} if _concurrently(schema_editor) else {}))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, **({"concurrently": True} if _concurrently(schema_editor) else {}))


class RemoveIndexConcurrently(RemoveIndex):
    """`RemoveIndex`, dropped with `DROP INDEX CONCURRENTLY` on PostgreSQL."""

    def describe(self):
        return f"Remove index {self.name} from {self.model_name} (concurrently on PostgreSQL)"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = from_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            schema_editor.remove_index(model, index, **({"concurrently": True} if _concurrently(schema_editor) else {}))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = to_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            schema_editor.add_index(model, index, **({"concurrently": True} if _concurrently(schema_editor) else {}))
