"""`field__any_of=[...]`: membership in a long list of keys, for the importers and exports that
look up thousands of keys at a time.

On PostgreSQL the list is one array parameter (`= ANY(%s)`): Django's `__in` makes one
placeholder per value, and building and binding 5,000 of them cost more than running the query
(a re-import of 100,000 unchanged files spent a third of its time there). On SQLite it is one
JSON parameter read by `json_each`, so no list is too long for SQLite's limit on the number of
variables. The values must already be what the column holds (strings, integer keys)."""

import json

from django.db.models import Field, ForeignObject, Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if not values:
            return "1 = 0", []
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if connection.vendor == "sqlite":
            sql = f"{lhs} IN (SELECT value FROM json_each(%s))"  # noqa: S608 - a column, not data
            return sql, [*lhs_params, json.dumps(values)]
        marks = ", ".join(["%s"] * len(values))
        return f"{lhs} IN ({marks})", [*lhs_params, *values]


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # keys of related rows (household_id__any_of)
