import { bench } from './bench.js';
import type { Command } from './command.js';
import { demo } from './demo.js';
import { embed } from './embed.js';
import { evaluate } from './eval.js';
import { exportCommand } from './export.js';
import { inspect } from './inspect.js';
import { lab } from './lab.js';
import { serve } from './serve.js';
import { train } from './train.js';

export type { Command } from './command.js';

export const COMMANDS: readonly Command[] = [
  train,
  evaluate,
  exportCommand,
  embed,
  serve,
  inspect,
  bench,
  demo,
  lab,
];
