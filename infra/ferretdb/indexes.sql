-- GIN indexes beside FerretDB's btree ones, for the medoffice test server (infra/infra.sh).
--
-- FerretDB 1.24 pushes an equality filter {f: v} down as `_jsonb -> 'f' @> v` (containment,
-- so that an array holding v matches too). Its own indexes are btree on `_jsonb -> 'f'`, which
-- cannot serve `@>`, so every such query scanned the table; a GIN index on the whole `_jsonb`
-- cannot serve it either (it answers `_jsonb @> ...` only). So, for each btree index FerretDB
-- creates on a top-level field of a collection, this adds a GIN (jsonb_path_ops) index on the
-- same expression as its first key, as MongoDB would use that index for an equality on it.
-- `_id` needs none: the patched query builder (pushdown.patch) compares it with `=`, which
-- FerretDB's unique btree index on `_id` serves.
CREATE OR REPLACE FUNCTION medoffice_gin_beside_btree() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
	cmd record;
	idx record;
	key text;
BEGIN
	FOR cmd IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE object_type = 'index' LOOP
		SELECT a.amname, c.relname, i.indrelid::regclass AS tbl, t.relname AS tblname INTO idx
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
			JOIN pg_class t ON t.oid = i.indrelid
		WHERE i.indexrelid = cmd.objid;
		key := pg_get_indexdef(cmd.objid, 1, false);
		-- Ours (gin) fire this trigger too; FerretDB's metadata table is not a collection.
		CONTINUE WHEN idx.amname IS DISTINCT FROM 'btree'
			OR key !~ '^\(\(_jsonb -> ''([^'']|'''')*''::text\)\)$' -- a top-level field
			OR key = '((_jsonb -> ''_id''::text))'
			OR idx.tblname = '_ferretdb_database_metadata'
			OR to_regclass(quote_ident(cmd.schema_name) || '._ferretdb_database_metadata') IS NULL;
		EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin (%s jsonb_path_ops)',
			left(idx.relname, 59) || '_gin', idx.tbl, key);
	END LOOP;
END
$$;

SET client_min_messages = warning; -- no notice when there is none to drop
DROP EVENT TRIGGER IF EXISTS medoffice_gin_beside_btree;
CREATE EVENT TRIGGER medoffice_gin_beside_btree ON ddl_command_end
	WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION medoffice_gin_beside_btree();
