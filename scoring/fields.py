"""A list of floats: ``double precision[]`` on PostgreSQL, JSON text elsewhere (SQLite)."""

from __future__ import annotations

import json

from django.db import models


class FloatListField(models.Field):
    """A flat list of floats (or None), stored natively where the database can.

    PostgreSQL keeps it as ``double precision[]``, so SQL can slice it and a
    list of them can be sent as one array parameter; SQLite, the embedded
    default, keeps JSON text. Not indexable and not meant for lookups.
    """

    description = "List of floats"

    def db_type(self, connection) -> str:
        return "double precision[]" if connection.vendor == "postgresql" else "text"

    def from_db_value(self, value, expression, connection):
        return self.to_python(value)

    def to_python(self, value):
        if value is None:
            return None
        if isinstance(value, str):
            value = json.loads(value)
        return [float(v) for v in value]

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        floats = [float(v) for v in value]
        if connection.vendor == "postgresql":
            return floats
        return json.dumps(floats)
