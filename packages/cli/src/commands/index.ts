import type { Command } from './command.js';
import { demo } from './demo.js';

export { CliUsageError, type Command } from './command.js';

export const COMMANDS: readonly Command[] = [demo];
