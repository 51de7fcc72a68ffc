"""Reading files to import into datasets: CSV, JSON lines and JSON arrays, streamed.

``readers.open_rows(path, ...)`` yields ``(line, record)`` pairs one at a time, whatever
the size of the file: memory stays bounded by the longest record, never the file. A
file that cannot be read fails with ``errors.MalformedFile`` naming the line and the
reason. Nothing here knows about datasets or the database.
"""
