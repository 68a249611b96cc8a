"""Everything with IO: configuration, database, API, worker, command line."""
