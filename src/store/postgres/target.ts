/** Schema names are interpolated into `search_path` and DDL, so only plain identifiers pass. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PostgresTarget {
  /** The URL to hand to pg, without our own `schema` parameter. */
  connectionString: string;
  schema: string | null;
}

/**
 * Where the store lives: a connection URL and an optional schema. The schema may be given as an
 * option or as a `schema` query parameter (`postgres://host/db?schema=tailor`), so a single
 * `TAILOR_DB` value can place a whole cluster in its own schema.
 */
export function resolveTarget(connectionString: string, schema?: string): PostgresTarget {
  let url: URL | null = null;
  try {
    url = new URL(connectionString);
  } catch {
    // Not a URL (a libpq key=value string): pass it through untouched.
  }
  const fromUrl = url?.searchParams.get('schema') ?? null;
  if (url && fromUrl !== null) {
    url.searchParams.delete('schema');
    connectionString = url.toString();
  }
  const chosen = schema ?? fromUrl;
  if (chosen !== null && !SCHEMA_NAME.test(chosen)) {
    throw new Error(
      `invalid PostgreSQL schema name ${JSON.stringify(chosen)} (expected ${SCHEMA_NAME})`,
    );
  }
  return { connectionString, schema: chosen };
}
