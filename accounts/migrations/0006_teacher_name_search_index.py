"""The roster's name search reads an index on PostgreSQL (issue 14).

`name__icontains` is `UPPER(name) LIKE UPPER('%q%')`: no B-tree answers a substring, so a city's
search read all its teachers. pg_trgm's trigram index does not help either: a Chinese name is two
or three characters and is searched whole, and a `LIKE '%王伟%'` pattern of two characters yields no
trigram (pg_trgm then reads the whole index). So the index holds each name's characters and pairs of
characters (`cpd_name_grams`, upper-cased like the lookup); a search asks first for the names holding
every character and pair of the query (`@>`, GIN), then checks `icontains` on those few rows
(`accounts.selectors.name_contains`). On SQLite this migration does nothing (small deployments).
"""

from django.db import migrations

GRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION cpd_name_grams(value text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    u text := upper(value);
    n integer := char_length(u);
    grams text[] := '{}';
BEGIN
    FOR i IN 1..n LOOP
        grams := grams || substr(u, i, 1);
        IF i < n THEN
            grams := grams || substr(u, i, 2);
        END IF;
    END LOOP;
    RETURN grams;
END
$$
"""

INDEX = "CREATE INDEX CONCURRENTLY IF NOT EXISTS teacher_name_grams ON accounts_teacher USING gin (cpd_name_grams(name))"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(GRAMS_FUNCTION)
    schema_editor.execute(INDEX)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS teacher_name_grams")
    schema_editor.execute("DROP FUNCTION IF EXISTS cpd_name_grams(text)")


class Migration(migrations.Migration):
    # CONCURRENTLY: building the index on a city's roster does not block roster writes meanwhile.
    atomic = False

    dependencies = [
        ("accounts", "0005_scale_list_indexes"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
