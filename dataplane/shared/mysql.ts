/**
 * MariaDB access shared by the data-plane services: a connection pool from a mysql:// URL and a migration
 * runner. Each service owns a list of migrations (SQL statements that are idempotent on their own); they run
 * in order at start, each recorded in `darwin_migrations` under the service's name, so a second replica or
 * a restart applies nothing twice and two replicas starting together serialise on a named lock.
 */
import mysql from "mysql2/promise";

export type Pool = mysql.Pool;
export type Connection = mysql.PoolConnection;
export type Rows = mysql.RowDataPacket[];

export interface Migration {
  /** Stable id, e.g. "001-events"; never renamed once released. */
  id: string;
  /** Statements run in order; each must be safe to run again (IF NOT EXISTS) should a run stop halfway. */
  statements: string[];
}

/** A pool on `url` (mysql://user:password@host:port/database); JSON columns come back parsed. */
export function createPool(url: string, connectionLimit = 10): Pool {
  return mysql.createPool({
    uri: url,
    connectionLimit,
    // DATETIME(3) columns are UTC instants: read and written as UTC, never in the process's zone.
    timezone: "Z",
    dateStrings: false,
    supportBigNumbers: true,
    bigNumberStrings: false,
    enableKeepAlive: true,
  });
}

/** Applies the migrations of `service` not yet recorded; returns the ids it applied. */
export async function migrate(pool: Pool, service: string, migrations: Migration[]): Promise<string[]> {
  const connection = await pool.getConnection();
  const lock = `darwin-migrate-${service}`;
  try {
    const [locked] = await connection.query<Rows>("SELECT GET_LOCK(?, 60) AS ok", [lock]);
    if (locked[0]?.ok !== 1) throw new Error(`could not take the migration lock ${lock} within 60 s`);
    await connection.query(
      `CREATE TABLE IF NOT EXISTS darwin_migrations (
        service VARCHAR(64) NOT NULL,
        id VARCHAR(128) NOT NULL,
        applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (service, id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    );
    const [done] = await connection.query<Rows>("SELECT id FROM darwin_migrations WHERE service = ?", [
      service,
    ]);
    const applied = new Set(done.map((row) => String(row.id)));
    const ran: string[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.id)) continue;
      for (const statement of migration.statements) await connection.query(statement);
      await connection.query("INSERT INTO darwin_migrations (service, id) VALUES (?, ?)", [
        service,
        migration.id,
      ]);
      ran.push(migration.id);
    }
    return ran;
  } finally {
    await connection.query("SELECT RELEASE_LOCK(?)", [lock]).catch(() => undefined);
    connection.release();
  }
}

/** Runs `work` in a transaction on one pooled connection: committed when it returns, rolled back on throw. */
export async function inTransaction<T>(pool: Pool, work: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await pool.getConnection();
  try {
    await connection.beginTransaction();
    const result = await work(connection);
    await connection.commit();
    return result;
  } catch (error) {
    await connection.rollback().catch(() => undefined);
    throw error;
  } finally {
    connection.release();
  }
}
