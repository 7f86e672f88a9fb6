/** Where the CLI writes its lines: stdout and stderr in `ebm`, arrays in tests. A leaf: it imports nothing. */
export interface CliIO {
  out: (line: string) => void;
  err: (line: string) => void;
}
