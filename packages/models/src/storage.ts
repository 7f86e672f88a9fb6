/**
 * Where a save lives: a flat set of named files. The models package only talks to this
 * interface, so saving works in any runtime; `directoryStorage` (node:fs, in fs-storage.ts) is
 * used for string paths (resolve-storage.ts), `memoryStorage` for tests and browsers, and anything else (IndexedDB,
 * OPFS) can implement it.
 */
export interface Storage {
  /** Shown in error messages (a directory path, a URL, ...). */
  readonly location: string;
  /** Whether the location exists at all (a missing directory, unlike a missing file, is an IO error). */
  exists(): Promise<boolean>;
  /** The file's bytes, or undefined when it does not exist. */
  read(name: string): Promise<Uint8Array | undefined>;
  /** Replaces `name` atomically: readers see the old file or the whole new one, never a part. */
  write(name: string, data: Uint8Array): Promise<void>;
  list(): Promise<string[]>;
  remove(name: string): Promise<void>;
}

/** A directory path (Node) or any `Storage`. */
export type SaveTarget = string | Storage;

export interface MemoryStorage extends Storage {
  readonly files: Map<string, Uint8Array>;
}

/** An in-memory `Storage` (tests, browsers without a file system). */
export function memoryStorage(location = 'memory'): MemoryStorage {
  const files = new Map<string, Uint8Array>();
  return {
    location,
    files,
    exists: async () => true,
    read: async (name) => {
      const f = files.get(name);
      return f === undefined ? undefined : f.slice();
    },
    write: async (name, data) => {
      files.set(name, data.slice());
    },
    list: async () => [...files.keys()],
    remove: async (name) => {
      files.delete(name);
    },
  };
}
