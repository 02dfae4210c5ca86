"""Model fields for sensitive personal information (PIPL): an encrypted ID number and its keyed hash.

`EncryptedIdNumberField` holds the plain number in Python and a Fernet token in the database;
`exact` and `in` lookups on it are answered by the keyed-hash column named by `hash_field`,
so `Teacher.objects.filter(id_number=...)` keeps working without the plain number stored.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Lookup

from . import crypto


class EncryptedIdNumberField(models.CharField):
    def __init__(self, *args, hash_field: str = "id_number_hash", **kwargs):
        self.hash_field = hash_field
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["hash_field"] = self.hash_field
        return name, path, args, kwargs

    def db_type(self, connection):
        # The token is longer than the number; max_length still limits the plain value (forms, full_clean).
        return models.TextField().db_type(connection)

    def cast_db_type(self, connection):
        return self.db_type(connection)

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "" or str(value).startswith(crypto.FERNET_PREFIX):
            return value
        return crypto.encrypt(str(value))


class KeyedHashField(models.CharField):
    """HMAC-SHA256 of `source`'s plain value, computed whenever the row is saved (bulk_create included)."""

    def __init__(self, *args, source: str = "id_number", **kwargs):
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs.pop("editable", None)
        if kwargs.get("max_length") == 64:
            kwargs.pop("max_length")
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        plain = getattr(model_instance, self.source)
        value = crypto.keyed_hash(plain) if plain else None
        setattr(model_instance, self.attname, value)
        return value


class _HashedLookupMixin:
    """Compare the keyed-hash column instead of the (randomised) ciphertext."""

    def _hash_col(self):
        field = self.lhs.target
        hash_field = field.model._meta.get_field(field.hash_field)
        return hash_field.get_col(self.lhs.alias)


@EncryptedIdNumberField.register_lookup
class HashedExact(_HashedLookupMixin, Lookup):
    lookup_name = "exact"
    prepare_rhs = False

    def get_prep_lookup(self):
        return crypto.keyed_hash(str(self.rhs))

    def as_sql(self, compiler, connection):
        lhs_sql, lhs_params = compiler.compile(self._hash_col())
        return f"{lhs_sql} = %s", (*lhs_params, self.rhs)


@EncryptedIdNumberField.register_lookup
class HashedIn(_HashedLookupMixin, Lookup):
    lookup_name = "in"
    prepare_rhs = False

    def get_prep_lookup(self):
        return [crypto.keyed_hash(str(v)) for v in self.rhs]

    def as_sql(self, compiler, connection):
        lhs_sql, lhs_params = compiler.compile(self._hash_col())
        if not self.rhs:
            return "1 = 0", ()
        placeholders = ", ".join(["%s"] * len(self.rhs))
        return f"{lhs_sql} IN ({placeholders})", (*lhs_params, *self.rhs)
