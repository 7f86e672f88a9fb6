import { EbmError, messageOf } from '@ebmjs/contract';

/** A query result: the rows as objects (what `pg` and PGlite both return). */
export interface QueryResult {
  rows: Record<string, unknown>[];
}

/**
 * Anything that runs a parameterised SQL query: a `pg` Client or Pool, a PGlite instance, or a
 * wrapper of yours. A Pool (it has `connect()` returning a client with `release()`) gives each
 * transaction its own connection; anything else is one connection, used one operation at a time.
 */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<QueryResult>;
}

interface PooledClient extends Queryable {
  release(error?: Error | boolean): void;
}
interface PoolLike extends Queryable {
  connect(): Promise<PooledClient>;
  end?(): Promise<void>;
  /** pg.Pool has it; pg.Client (whose connect() resolves to nothing) does not. */
  idleCount: number;
}

const isPool = (c: Queryable): c is PoolLike =>
  typeof (c as PoolLike).connect === 'function' && typeof (c as PoolLike).idleCount === 'number';

/** The connection an index runs on: one operation at a time on a single connection. */
export class Connection {
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly client: Queryable,
    private readonly owned: boolean,
    readonly where: string,
  ) {}

  /** A `pg` Pool for a `postgres://` connection string (closed by `close()`), or the given client. */
  static async open(source: string | Queryable, caller: string): Promise<Connection> {
    if (typeof source === 'string') {
      if (!/^postgres(ql)?:\/\//i.test(source)) {
        throw new EbmError(
          'INVALID_ARGUMENT',
          `${caller}: expected a postgres:// or postgresql:// connection string, received "${redact(source)}".`,
          { received: redact(source) },
        );
      }
      const pg = (await import('pg')).default;
      const pool = new pg.Pool({ connectionString: source, max: 4 });
      const connection = new Connection(pool as unknown as Queryable, true, redact(source));
      await connection.run(caller, (q) => q('SELECT 1'));
      return connection;
    }
    if (typeof source !== 'object' || source === null || typeof source.query !== 'function') {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${caller}: expected a connection string or a client with query(text, values) (pg Client or Pool, PGlite), received ${typeof source}.`,
        { received: typeof source },
      );
    }
    return new Connection(source, false, 'the given client');
  }

  /**
   * Runs `work` with a query function, in a transaction when `transaction` is set (rolled back
   * if `work` throws). Database errors become EbmError IO naming the caller.
   */
  run<T>(
    caller: string,
    work: (query: (text: string, values?: unknown[]) => Promise<QueryResult>) => Promise<T>,
    transaction = false,
  ): Promise<T> {
    if (isPool(this.client)) return this.onPool(this.client, caller, work, transaction);
    // One connection: queue operations so that no query lands inside another's transaction.
    const result = this.tail.then(() => this.onClient(this.client, caller, work, transaction));
    this.tail = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    if (this.owned) await (this.client as PoolLike).end?.();
  }

  private async onPool<T>(
    pool: PoolLike,
    caller: string,
    work: (query: (text: string, values?: unknown[]) => Promise<QueryResult>) => Promise<T>,
    transaction: boolean,
  ): Promise<T> {
    let client: PooledClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw dbError(caller, error, this.where);
    }
    try {
      return await this.onClient(client, caller, work, transaction);
    } finally {
      client.release();
    }
  }

  private async onClient<T>(
    client: Queryable,
    caller: string,
    work: (query: (text: string, values?: unknown[]) => Promise<QueryResult>) => Promise<T>,
    transaction: boolean,
  ): Promise<T> {
    const query = async (text: string, values?: unknown[]) => {
      try {
        return await client.query(text, values);
      } catch (error) {
        throw dbError(caller, error, this.where);
      }
    };
    if (!transaction) return work(query);
    await query('BEGIN');
    try {
      const result = await work(query);
      await query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}

function dbError(caller: string, error: unknown, where: string): EbmError {
  if (EbmError.isInstance(error)) return error;
  const code = (error as { code?: unknown }).code;
  return new EbmError(
    'IO',
    `${caller}: PostgreSQL (${where}) failed: ${messageOf(error)}`,
    { sqlState: typeof code === 'string' ? code : undefined },
    { cause: error },
  );
}

/** A connection string without its password, for messages. */
function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@/]*@/, '$1:***@');
}
