-- Every statement on this database is bounded by a default of the database itself, not by the connection:
-- RDS Proxy refuses the `options` startup parameter, and pins the session on SET and set_config
-- (docs/decisions.md, "Database access through RDS Proxy"). New sessions of every role get it;
-- `reckoning migrate` lifts it inside its own transactions. To change it, add a migration.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET statement_timeout = %L', current_database(), '5s');
END
$$;
