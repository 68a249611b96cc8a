-- exportflow's own role and database, beside Temporal's `temporal` and `temporal_visibility`.
-- The postgres image runs this once, on an empty data volume, as POSTGRES_USER.
-- The password comes from the container's environment (psql 15+ `\getenv`), never from this file.
\set ON_ERROR_STOP on
\set exportflow_db_password ''
\getenv exportflow_db_password EXPORTFLOW_DB_PASSWORD

SELECT :'exportflow_db_password' = '' AS password_missing \gset
\if :password_missing
    -- Fail the first start loudly rather than create a role nobody can log in as.
    DO $$ BEGIN RAISE EXCEPTION 'EXPORTFLOW_DB_PASSWORD is not set in the postgresql container'; END $$;
\endif

CREATE ROLE exportflow LOGIN PASSWORD :'exportflow_db_password';
CREATE DATABASE exportflow OWNER exportflow;
-- Only the owner (and superusers) may connect to exportflow's data.
REVOKE ALL ON DATABASE exportflow FROM PUBLIC;
