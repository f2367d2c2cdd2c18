"""Database helpers shared by the set-based write paths."""

from __future__ import annotations

from django.db import connection


def server_binding_cursor():
    """A Django cursor that binds parameters server-side, on PostgreSQL.

    Django's default client-side binding quotes every array element in Python
    (a regular expression per value) and re-plans each statement; with
    server-side binding psycopg sends the arrays as they are and prepares a
    statement run often on a persistent connection. Wrapped like Django's
    own cursors, so query logging and django_assert_num_queries still see it.
    """
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    cursor = ServerBindingCursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)
